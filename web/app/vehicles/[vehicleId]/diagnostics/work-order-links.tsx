'use client';

import Link from 'next/link';
import { useState } from 'react';
import { DataTable, numeric } from '../../../../components/data-table.tsx';
import { trpc } from '../../../../lib/trpc.ts';
import { useQuery } from '../../../../lib/use-query.ts';

/**
 * Work orders opened from what the diagnostics page shows (issue 18 §1): a trouble code
 * (source { kind: 'dtc', ref: code }) or an "inspect" suggestion of the engine model
 * (source { kind: 'anomaly', ref: '<vehicle>/<day>' }). The cloud keeps one live order per source,
 * so a second click gives the same order; once one exists its link and status replace the button.
 */
export type VehicleOrder = Awaited<ReturnType<typeof trpc.workOrders.list.query>>[number];
type SourceKind = 'dtc' | 'anomaly';

const DAY = 86_400_000;
const STATUS: Record<string, string> = {
  open: 'open',
  in_progress: 'in progress',
  waiting_parts: 'waiting for parts',
  done: 'done',
  cancelled: 'cancelled',
};

/** The vehicle's work orders (null while loading or without maintenance:read). */
export function useVehicleOrders(vehicleId: string, canRead: boolean) {
  const [refresh, setRefresh] = useState(0);
  const orders = useQuery(canRead ? { vehicleId, refresh } : null, (signal) =>
    trpc.workOrders.list.query({ vehicleId, limit: 500 }, { signal }),
  );
  return { orders: orders.data ?? null, reload: () => setRefresh((n) => n + 1) };
}

/** The order for this source: a live one first, else the newest closed one (the list is newest first). */
function orderFor(orders: readonly VehicleOrder[], kind: SourceKind, ref: string): VehicleOrder | undefined {
  const same = orders.filter((o) => o.source.kind === kind && o.source.ref === ref);
  return same.find((o) => o.status !== 'done' && o.status !== 'cancelled') ?? same[0];
}

export function WorkOrderCell(props: {
  vehicleId: string;
  kind: SourceKind;
  sourceRef: string;
  title: string;
  label: string;
  orders: readonly VehicleOrder[] | null;
  canWrite: boolean;
  onOpened: (message: string) => void;
  onError: (message: string) => void;
}) {
  const existing = props.orders ? orderFor(props.orders, props.kind, props.sourceRef) : undefined;
  if (existing && existing.status !== 'done' && existing.status !== 'cancelled')
    return (
      <Link href={`/maintenance/work-orders/${existing.id}`} prefetch={false}>
        Work order {existing.id} ({STATUS[existing.status] ?? existing.status})
      </Link>
    );
  if (!props.canWrite)
    return <>{existing ? `Work order ${existing.id} (${STATUS[existing.status]})` : '—'}</>;
  const open = async () => {
    try {
      const r = await trpc.workOrders.create.mutate({
        vehicleId: props.vehicleId,
        title: props.title,
        source: { kind: props.kind, ref: props.sourceRef },
      });
      props.onOpened(
        `Work order ${r.workOrder.id} ${r.created ? 'opened' : 'is already open'}: ${props.title}.`,
      );
    } catch (err) {
      props.onError((err as Error).message);
    }
  };
  return (
    <button type="button" onClick={() => void open()} aria-label={`Open a work order: ${props.label}`}>
      Open work order
    </button>
  );
}

/**
 * The engine model's days worth a look: high for this vehicle's own history (the rule is in
 * cloud/src/maintenance/inspect-suggestions.ts), with the PIDs that drove the score.
 */
export function InspectSuggestions(props: {
  vehicleId: string;
  orders: readonly VehicleOrder[] | null;
  canWrite: boolean;
  onOpened: (message: string) => void;
  onError: (message: string) => void;
}) {
  const { vehicleId } = props;
  const scores = useQuery({ vehicleId }, (signal) => {
    const to = Date.now() + 60_000;
    return trpc.vehicleHealth.engineScores.query(
      { vehicleId, from: to - 92 * DAY, to, limit: 92 },
      { signal },
    );
  });
  const data = scores.data;
  return (
    <section aria-labelledby="inspect-heading">
      <h2 id="inspect-heading">Inspect suggestions (engine model)</h2>
      {scores.error && <p role="alert">{String(scores.error)}</p>}
      {data === null ? (
        <p>Loading the engine model's scores…</p>
      ) : data.suggestions.length === 0 ? (
        <p>
          No day in the last 92 days stands out from this vehicle's usual engine scores ({data.days.length}{' '}
          days scored).
        </p>
      ) : (
        <DataTable
          caption="Days the engine model scored high for this vehicle, with the PIDs that drove the score"
          columns={['Day (UTC)', numeric('Mean score'), numeric('Usual'), 'Driven by', 'Work order']}
          data-testid="inspect-suggestions"
        >
          {data.suggestions.map((s) => {
            const pids = s.features.map((f) => `${f.feature} ${Math.round(f.share * 100)} %`).join(', ');
            return (
              <tr key={s.ref}>
                <td>{s.day}</td>
                <td className="num">{s.mean.toFixed(3)}</td>
                <td className="num">
                  {s.rule === 'history' ? s.baseline.toFixed(3) : `threshold ${s.baseline.toFixed(3)}`}
                </td>
                <td>{pids}</td>
                <td>
                  <WorkOrderCell
                    {...props}
                    kind="anomaly"
                    sourceRef={s.ref}
                    title={`Inspect engine: high model scores on ${s.day} (${s.features.map((f) => f.feature).join(', ')})`}
                    label={`engine scores of ${s.day}`}
                  />
                </td>
              </tr>
            );
          })}
        </DataTable>
      )}
    </section>
  );
}
