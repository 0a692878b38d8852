import type { DropCounters } from '@fleet/shared';
import type pg from 'pg';

export interface AgentDrops extends DropCounters {
  tenantId: string;
  vehicleId: string;
}

/**
 * Records the eviction counters agents reported, one row per vehicle, in the caller's
 * transaction. The counters are cumulative on the agent, so each column keeps the highest figure
 * seen: a backfilled batch that carries older figures changes nothing.
 */
export async function upsertAgentDrops(db: pg.PoolClient, drops: AgentDrops[]): Promise<void> {
  if (drops.length === 0) return;
  // Sorted, so concurrent ingests lock vehicles in the same order.
  const sorted = [...drops].sort((a, b) =>
    a.vehicleId < b.vehicleId ? -1 : a.vehicleId > b.vehicleId ? 1 : 0,
  );
  await db.query(
    `INSERT INTO vehicle_agent_drops AS d (vehicle_id, tenant_id, raw_synced, raw_unsynced, rollups, events)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
     ON CONFLICT (vehicle_id) DO UPDATE
        SET raw_synced = GREATEST(d.raw_synced, EXCLUDED.raw_synced),
            raw_unsynced = GREATEST(d.raw_unsynced, EXCLUDED.raw_unsynced),
            rollups = GREATEST(d.rollups, EXCLUDED.rollups),
            events = GREATEST(d.events, EXCLUDED.events),
            reported_at = now()
      WHERE (d.raw_synced, d.raw_unsynced, d.rollups, d.events)
            IS DISTINCT FROM (GREATEST(d.raw_synced, EXCLUDED.raw_synced), GREATEST(d.raw_unsynced, EXCLUDED.raw_unsynced),
                              GREATEST(d.rollups, EXCLUDED.rollups), GREATEST(d.events, EXCLUDED.events))`,
    [
      sorted.map((d) => d.vehicleId),
      sorted.map((d) => d.tenantId),
      sorted.map((d) => d.rawSynced),
      sorted.map((d) => d.rawUnsynced),
      sorted.map((d) => d.rollups),
      sorted.map((d) => d.events),
    ],
  );
}
