'use client';

/** The vehicle register: every vehicle with its plate, VIN, tank, group and driver (registry.list). */
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { DataTable, numeric } from '../../../components/data-table.tsx';
import {
  CheckboxGroup,
  FilterBar,
  SelectField,
  TextField,
  useFilterDraft,
} from '../../../components/filter-bar.tsx';
import { PageMessages } from '../../../components/page-messages.tsx';
import { Pager } from '../../../components/pager.tsx';
import { useAuthRedirect } from '../../../lib/auth-redirect.ts';
import { formatNumber, MISSING } from '../../../lib/format.ts';
import { trpc } from '../../../lib/trpc.ts';
import { usePermissions } from '../../../lib/use-permissions.ts';
import { usePagedQuery, useQuery } from '../../../lib/use-query.ts';

interface Filter {
  groupId: string;
  text: string;
  retired: 'retired'[];
}

export function VehicleRegister() {
  const { applied, apply, bind, replace } = useFilterDraft<Filter>(
    { groupId: '', text: '', retired: [] },
    'vehicles',
  );
  useEffect(() => {
    // Arriving from a group's link (/admin/vehicles?group=ID): that group's vehicles.
    const group = new URLSearchParams(window.location.search).get('group');
    if (group && /^\d+$/.test(group)) replace({ groupId: group, text: '', retired: [] });
  }, [replace]);
  const [message, setMessage] = useState('');
  const [actionError, setActionError] = useState<string | null>(null);
  const onError = useAuthRedirect(setActionError);
  const canManage = usePermissions(true)?.has('vehicles:manage') ?? false;
  const groups = useQuery(null, (signal) => trpc.groups.list.query(undefined, { signal }));
  const input = {
    limit: 100,
    includeRetired: applied.retired.length > 0,
    ...(applied.groupId ? { groupId: Number(applied.groupId) } : {}),
    ...(applied.text.trim() ? { text: applied.text.trim() } : {}),
  };
  const list = usePagedQuery(input, (cursor, signal) =>
    trpc.registry.list.query({ ...input, ...(cursor ? { cursor } : {}) }, { signal }),
  );
  const items = list.pages?.flatMap((p) => p.items) ?? null;

  const retire = async (vehicleId: string, retired: boolean) => {
    try {
      await trpc.registry.retire.mutate({ vehicleId, retired });
      setMessage(
        retired
          ? `Vehicle ${vehicleId} retired; its history is kept.`
          : `Vehicle ${vehicleId} is back in service.`,
      );
      setActionError(null);
      await list.reload();
    } catch (err) {
      onError(err);
    }
  };

  return (
    <>
      {canManage ? (
        <p className="actions">
          <Link className="button" href="/admin/vehicles/new" prefetch={false}>
            Add a vehicle
          </Link>
          <Link className="button button--secondary" href="/admin/import" prefetch={false}>
            Import from a spreadsheet
          </Link>
        </p>
      ) : null}
      <FilterBar label="Filter vehicles" onApply={apply}>
        <SelectField
          label="Group"
          anyLabel="Every group"
          options={Object.fromEntries((groups.data ?? []).map((g) => [String(g.id), g.name]))}
          {...bind('groupId')}
        />
        <TextField label="Plate, VIN, make or model" autoComplete="off" {...bind('text')} />
        <CheckboxGroup
          legend="Retired"
          options={[{ value: 'retired', label: 'Include retired vehicles' }]}
          {...bind('retired')}
        />
      </FilterBar>
      <PageMessages message={message} error={actionError} />
      {list.error && <p className="error-text">Could not load vehicles: {list.error}</p>}
      {items &&
        (items.length === 0 ? (
          <p>No vehicles match this filter.</p>
        ) : (
          <DataTable
            data-table="vehicle-register"
            caption="Vehicles of the fleet by id, with their tank, group and current driver"
            columns={[
              'Vehicle',
              'Plate',
              'VIN',
              'Make and model',
              numeric('Year'),
              'Fuel',
              numeric('Tank (L)'),
              'Calibration',
              'Group',
              'Driver now',
              'Status',
              ...(canManage ? ['Actions'] : []),
            ]}
          >
            {items.map((v) => (
              <tr key={v.id} data-vehicle-id={v.id}>
                <th scope="row">
                  {canManage ? (
                    <Link href={`/admin/vehicles/${encodeURIComponent(v.id)}`} prefetch={false}>
                      {v.id}
                    </Link>
                  ) : (
                    v.id
                  )}
                </th>
                <td>{v.plate ?? MISSING}</td>
                <td data-vin-status={v.vinStatus}>
                  {v.vin ?? MISSING}
                  {v.vinStatus === 'mismatch' || v.vinStatus === 'unregistered' ? (
                    <>
                      <br />
                      {/* The agent reads it from the ECU: the adapter may sit in another vehicle. */}
                      <strong>
                        {v.vinStatus === 'mismatch' ? '⚠ ' : ''}Agent reports {v.reportedVin}
                      </strong>
                    </>
                  ) : null}
                </td>
                <td>{[v.make, v.model].filter(Boolean).join(' ') || MISSING}</td>
                <td className="num">{v.year ?? MISSING}</td>
                <td>{v.fuelType ?? MISSING}</td>
                <td className="num">{formatNumber(v.tankLitres)}</td>
                <td>{v.calibration ? `${v.calibration.length} rows` : 'Linear'}</td>
                <td>{v.groupName ?? MISSING}</td>
                <td>{v.driverName ?? MISSING}</td>
                <td>{v.retiredAt ? 'Retired' : 'In service'}</td>
                {canManage ? (
                  <td>
                    <button
                      type="button"
                      className="button--secondary"
                      onClick={() => void retire(v.id, !v.retiredAt)}
                    >
                      {v.retiredAt ? 'Return to service' : 'Retire'}
                      <span className="visually-hidden"> vehicle {v.id}</span>
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </DataTable>
        ))}
      <Pager hasMore={list.hasMore} onMore={list.more} what="vehicles" />
    </>
  );
}
