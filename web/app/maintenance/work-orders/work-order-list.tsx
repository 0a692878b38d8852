'use client';

/**
 * Work orders, newest first, with their source, technician, status and cost; a vehicle's whole
 * history with the vehicle filter (`?vehicle=` opens it filtered).
 */
import { ID_PATTERN } from '@fleet/shared';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { DataTable, numeric } from '../../../components/data-table.tsx';
import { ChoiceField, InputField } from '../../../components/form-field.tsx';
import { NotAllowed } from '../../../components/not-allowed.tsx';
import { PageMessages } from '../../../components/page-messages.tsx';
import { VehicleLink } from '../../../components/vehicle-link.tsx';
import { formatUtcDateTime, MISSING, toIsoTimestamp } from '../../../lib/format.ts';
import { trpc } from '../../../lib/trpc.ts';
import { usePermissions } from '../../../lib/use-permissions.ts';
import { useQuery } from '../../../lib/use-query.ts';
import { SOURCE_LABELS, STATUS_LABELS } from '../maintenance-nav.tsx';

type Status = 'open' | 'in_progress' | 'waiting_parts' | 'done' | 'cancelled';

export function WorkOrderList() {
  const permissions = usePermissions(true);
  const [status, setStatus] = useState('');
  const [vehicle, setVehicle] = useState('');
  useEffect(() => {
    setVehicle(new URLSearchParams(window.location.search).get('vehicle') ?? '');
  }, []);
  const vehicleId = ID_PATTERN.test(vehicle.trim()) ? vehicle.trim() : undefined;
  const orders = useQuery({ status, vehicleId }, (signal) =>
    trpc.workOrders.list.query(
      { limit: 200, ...(status ? { status: [status as Status] } : {}), ...(vehicleId ? { vehicleId } : {}) },
      { signal },
    ),
  );
  if (permissions && !permissions.has('maintenance:read')) return <NotAllowed what="work orders" />;
  return (
    <>
      <PageMessages error={orders.error} />
      <ChoiceField
        id="work-order-status"
        label="Status"
        value={status}
        onChange={setStatus}
        options={[['', 'Every status'], ...Object.entries(STATUS_LABELS)]}
      />
      <InputField
        id="work-order-vehicle"
        label="Vehicle"
        value={vehicle}
        onChange={setVehicle}
        hint="A vehicle id shows its whole maintenance history."
        maxLength={64}
      />
      {orders.data === null ? (
        <p>Loading work orders…</p>
      ) : orders.data.length === 0 ? (
        <p>No work orders.</p>
      ) : (
        <DataTable
          caption="Work orders, newest first"
          columns={['Work order', 'Vehicle', 'Source', 'Status', 'Technician', 'Opened', numeric('Cost')]}
          data-testid="work-orders"
        >
          {orders.data.map((o) => (
            <tr key={o.id} data-work-order-id={o.id}>
              <td>
                <Link href={`/maintenance/work-orders/${o.id}`} prefetch={false}>
                  {o.id}: {o.title}
                </Link>
              </td>
              <td>
                <VehicleLink vehicleId={o.vehicleId} />
              </td>
              <td>{SOURCE_LABELS[o.source.kind]}</td>
              <td>{STATUS_LABELS[o.status]}</td>
              <td>{o.assigneeName ?? MISSING}</td>
              <td>
                <time dateTime={toIsoTimestamp(o.openedAt)}>{formatUtcDateTime(o.openedAt)}</time>
              </td>
              <td className="num">
                {o.totalCost} {o.currency}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </>
  );
}
