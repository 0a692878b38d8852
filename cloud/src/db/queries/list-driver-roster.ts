import type pg from 'pg';

export interface RosterDriver {
  userId: string;
  email: string;
  name: string;
  /** The vehicle assigned now. */
  vehicleId: string | null;
  plate: string | null;
  since: number | null;
  groups: { id: number; name: string }[];
}

/** The tenant's drivers by name (after the cursor), with their current vehicle and their groups. */
export async function listDriverRoster(
  db: pg.PoolClient,
  q: { tenantId: string; limit: number; after: { name: string; id: string } | null; userId?: string | null },
): Promise<RosterDriver[]> {
  const { rows } = await db.query<{
    id: string;
    email: string;
    name: string;
    vehicle_id: string | null;
    plate: string | null;
    since_ms: number | null;
    groups: { id: number; name: string }[];
  }>(
    `SELECT u.id, u.email, u.name, a.vehicle_id, v.plate,
            CASE WHEN isfinite(a.starts_at) THEN extract(epoch FROM a.starts_at) * 1000 END::float8 AS since_ms,
            coalesce((SELECT jsonb_agg(jsonb_build_object('id', g.id, 'name', g.name) ORDER BY g.name)
                        FROM driver_groups d JOIN vehicle_groups g ON g.id = d.group_id
                       WHERE d.user_id = u.id), '[]'::jsonb) AS groups
       FROM users u
       LEFT JOIN vehicle_assignments a ON a.user_id = u.id AND a.ends_at IS NULL AND a.starts_at <= now()
       LEFT JOIN vehicles v ON v.id = a.vehicle_id
      WHERE u.tenant_id = $1 AND u.role = 'driver' AND ($5::text IS NULL OR u.id = $5)
        AND ($3::text IS NULL OR (u.name, u.id) > ($3, $4::text))
      ORDER BY u.name, u.id
      LIMIT $2`,
    [q.tenantId, q.limit, q.after?.name ?? null, q.after?.id ?? null, q.userId ?? null],
  );
  return rows.map((r) => ({
    userId: r.id,
    email: r.email,
    name: r.name,
    vehicleId: r.vehicle_id,
    plate: r.plate,
    since: r.since_ms,
    groups: r.groups.map((g) => ({ id: Number(g.id), name: g.name })),
  }));
}
