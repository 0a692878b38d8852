import type pg from 'pg';

/** One period of a driver on a vehicle: [from, to), to null while it goes on. */
export interface Assignment {
  id: number;
  vehicleId: string;
  plate: string | null;
  userId: string;
  driverName: string;
  /** Epoch ms; null: since before the history was kept (the static binding migration 000013 replaced). */
  from: number | null;
  to: number | null;
  source: string;
  createdBy: string;
}

/** Assignments newest first (by start, then id), of one vehicle and/or one driver, after the cursor. */
export async function listAssignments(
  db: pg.PoolClient,
  q: {
    tenantId: string;
    vehicleId: string | null;
    userId: string | null;
    currentOnly?: boolean;
    limit: number;
    after: { from: number | null; id: number } | null;
  },
): Promise<Assignment[]> {
  const { rows } = await db.query<{
    id: string;
    vehicle_id: string;
    plate: string | null;
    user_id: string;
    name: string;
    from_ms: number | null;
    to_ms: number | null;
    source: string;
    created_by: string;
  }>(
    `SELECT a.id, a.vehicle_id, v.plate, a.user_id, u.name,
            CASE WHEN isfinite(a.starts_at) THEN extract(epoch FROM a.starts_at) * 1000 END::float8 AS from_ms,
            (extract(epoch FROM a.ends_at) * 1000)::float8 AS to_ms, a.source, a.created_by
       FROM vehicle_assignments a
       JOIN vehicles v ON v.id = a.vehicle_id
       JOIN users u ON u.id = a.user_id
      WHERE a.tenant_id = $1 AND ($2::text IS NULL OR a.vehicle_id = $2) AND ($3::text IS NULL OR a.user_id = $3)
        AND (NOT $4 OR a.ends_at IS NULL)
        AND ($6::bigint IS NULL
             OR (a.starts_at, a.id) < (coalesce(to_timestamp($5 / 1000.0), '-infinity'::timestamptz), $6))
      ORDER BY a.starts_at DESC, a.id DESC
      LIMIT $7`,
    [
      q.tenantId,
      q.vehicleId,
      q.userId,
      q.currentOnly ?? false,
      q.after?.from ?? null,
      q.after?.id ?? null,
      q.limit,
    ],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    vehicleId: r.vehicle_id,
    plate: r.plate,
    userId: r.user_id,
    driverName: r.name,
    from: r.from_ms,
    to: r.to_ms,
    source: r.source,
    createdBy: r.created_by,
  }));
}
