'use client';

/**
 * Every vehicle's services with the forecast due date (from its average daily use over 30 days),
 * most urgent first; a due service opens a work order in one click.
 */
import Link from 'next/link';
import { useState } from 'react';
import { DataTable, numeric } from '../../components/data-table.tsx';
import { NotAllowed } from '../../components/not-allowed.tsx';
import { PageMessages } from '../../components/page-messages.tsx';
import { VehicleLink } from '../../components/vehicle-link.tsx';
import { useAuthRedirect } from '../../lib/auth-redirect.ts';
import { formatNumber, formatUtcDateTime, MISSING, toIsoTimestamp } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { usePermissions } from '../../lib/use-permissions.ts';
import { useQuery } from '../../lib/use-query.ts';
import { DUE_LABELS } from './maintenance-nav.tsx';

const BADGE: Record<string, string> = { ok: 'ok', due_soon: 'warning', overdue: 'danger' };
const BY_LABELS: Record<string, string> = {
  distance: 'Distance',
  hours: 'Engine hours',
  calendar: 'Calendar',
};

export function DueList() {
  const permissions = usePermissions(true);
  const due = useQuery(null, (signal) => trpc.maintenance.due.query({}, { signal }), { refreshMs: 60_000 });
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const onError = useAuthRedirect(setError);
  if (permissions && !permissions.has('maintenance:read')) return <NotAllowed what="maintenance" />;
  const canWrite = permissions?.has('maintenance:write') ?? false;

  const open = async (vehicleId: string, programId: number, programName: string) => {
    try {
      const r = await trpc.workOrders.create.mutate({
        vehicleId,
        programId,
        title: programName,
        source: { kind: 'service' },
      });
      setMessage(
        `Work order ${r.workOrder.id} ${r.created ? 'opened' : 'is already open'} for ${vehicleId}.`,
      );
      setError(null);
      await due.reload();
    } catch (err) {
      onError(err);
    }
  };

  const items = due.data?.items ?? [];
  return (
    <>
      <PageMessages message={message} error={error ?? due.error} />
      {due.data === null ? (
        <p>Loading due services…</p>
      ) : items.length === 0 ? (
        <p>
          No service programs apply to any vehicle yet.{' '}
          <Link href="/maintenance/programs">Create a program</Link>.
        </p>
      ) : (
        <DataTable
          caption="Services by vehicle, most urgent first"
          columns={[
            'Vehicle',
            'Program',
            'Status',
            'Due by',
            'Forecast due date',
            numeric('Km left'),
            numeric('Engine hours left'),
            numeric('Km per day'),
            'Work order',
          ]}
          data-testid="due-list"
        >
          {items.map((d) => (
            <tr key={`${d.vehicleId}-${d.programId}`} data-status={d.status}>
              <td>
                <VehicleLink vehicleId={d.vehicleId} />
              </td>
              <td>{d.programName}</td>
              <td>
                <span className={`badge badge--${BADGE[d.status]}`}>{DUE_LABELS[d.status]}</span>
              </td>
              <td>{d.dueBy ? BY_LABELS[d.dueBy] : MISSING}</td>
              <td>
                {d.forecastDueAt ? (
                  <time dateTime={toIsoTimestamp(d.forecastDueAt)}>{formatUtcDateTime(d.forecastDueAt)}</time>
                ) : (
                  MISSING
                )}
              </td>
              <td className="num">{formatNumber(d.remainingKm)}</td>
              <td className="num">{formatNumber(d.remainingHours, 1)}</td>
              <td className="num">{formatNumber(d.kmPerDay)}</td>
              <td>
                {d.workOrderId ? (
                  <Link href={`/maintenance/work-orders/${d.workOrderId}`} prefetch={false}>
                    Work order {d.workOrderId}
                  </Link>
                ) : canWrite ? (
                  <button
                    type="button"
                    onClick={() => void open(d.vehicleId, d.programId, d.programName)}
                    aria-label={`Open a work order: ${d.programName}, ${d.vehicleId}`}
                  >
                    Open work order
                  </button>
                ) : (
                  MISSING
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </>
  );
}
