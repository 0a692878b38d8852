'use client';

/** Who drove which vehicle when (assignments.list), newest first: the record attribution reads. */
import { DataTable } from '../../../components/data-table.tsx';
import { Pager } from '../../../components/pager.tsx';
import { UtcTime } from '../../../components/utc-time.tsx';
import { trpc } from '../../../lib/trpc.ts';
import { usePagedQuery } from '../../../lib/use-query.ts';

const SOURCES: Record<string, string> = {
  admin: 'Assigned by a manager',
  'check-in': 'Driver checked in',
  import: 'Spreadsheet import',
  migration: 'From the former fixed binding',
};

export function AssignmentHistory({
  vehicleId,
  userId,
  reloadKey = 0,
}: {
  vehicleId?: string;
  userId?: string;
  /** Changes when an assignment was made elsewhere on the page: read again. */
  reloadKey?: number;
}) {
  const input = { limit: 50, ...(vehicleId ? { vehicleId } : {}), ...(userId ? { userId } : {}), reloadKey };
  const list = usePagedQuery(input, (cursor, signal) => {
    const { reloadKey: _k, ...query } = input;
    return trpc.assignments.list.query({ ...query, ...(cursor ? { cursor } : {}) }, { signal });
  });
  const items = list.pages?.flatMap((p) => p.items) ?? null;
  return (
    <>
      {list.error && <p className="error-text">Could not load the assignments: {list.error}</p>}
      {items &&
        (items.length === 0 ? (
          <p>No assignments yet.</p>
        ) : (
          <DataTable
            data-table="assignments"
            caption="Assignments, newest first: each driver drove the vehicle from the start to the end shown (UTC)"
            columns={['Vehicle', 'Driver', 'From (UTC)', 'To (UTC)', 'How']}
          >
            {items.map((a) => (
              <tr key={a.id} data-assignment-id={a.id}>
                <td>{a.plate ? `${a.plate} (${a.vehicleId})` : a.vehicleId}</td>
                <td>{a.driverName}</td>
                <td>{a.from === null ? 'Before records began' : <UtcTime ms={a.from} />}</td>
                <td>{a.to === null ? 'Now (current)' : <UtcTime ms={a.to} />}</td>
                <td>{SOURCES[a.source] ?? a.source}</td>
              </tr>
            ))}
          </DataTable>
        ))}
      <Pager hasMore={list.hasMore} onMore={list.more} what="assignments" />
    </>
  );
}
