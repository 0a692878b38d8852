import type { AgentHealth } from '@fleet/shared';
import type pg from 'pg';
import { type VinStatus, vinStatus } from '../../register/vin-check.ts';

/** One agent's health block as the ingest received it (status message, shared/src/telemetry.ts). */
export interface AgentHealthReport {
  tenantId: string;
  vehicleId: string;
  health: AgentHealth;
}

/**
 * Keeps each vehicle's newest health report (by the agent's `at`), in the ingest's transaction:
 * a retained status delivered again, or an older one arriving late, changes nothing.
 */
export async function upsertAgentHealth(db: pg.PoolClient, reports: AgentHealthReport[]): Promise<void> {
  if (reports.length === 0) return;
  // The newest per vehicle within the group; sorted so concurrent ingests lock rows in one order.
  const newest = new Map<string, AgentHealthReport>();
  for (const r of reports) {
    const seen = newest.get(r.vehicleId);
    if (!seen || seen.health.at < r.health.at) newest.set(r.vehicleId, r);
  }
  const rows = [...newest.values()].sort((a, b) => (a.vehicleId < b.vehicleId ? -1 : 1));
  const col = <T>(f: (r: AgentHealthReport) => T) => rows.map(f);
  await db.query(
    `INSERT INTO vehicle_agent_health AS h (vehicle_id, tenant_id, agent_version, clock_source,
            disk_used_bytes, disk_budget_bytes, evicted_raw_synced, evicted_raw_unsynced,
            evicted_rollups, evicted_events, unsent_samples, sync_lag_ms, model_version, reported_at,
            reported_vin)
     SELECT v, t, av, cs, du, db, ers, eru, er, ee, us, sl, mv, to_timestamp(at / 1000.0), vin
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
                   $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[],
                   $12::bigint[], $13::text[], $14::float8[], $15::text[])
         AS x(v, t, av, cs, du, db, ers, eru, er, ee, us, sl, mv, at, vin)
     ON CONFLICT (vehicle_id) DO UPDATE
        SET tenant_id = EXCLUDED.tenant_id, agent_version = EXCLUDED.agent_version,
            clock_source = EXCLUDED.clock_source, disk_used_bytes = EXCLUDED.disk_used_bytes,
            disk_budget_bytes = EXCLUDED.disk_budget_bytes,
            evicted_raw_synced = EXCLUDED.evicted_raw_synced,
            evicted_raw_unsynced = EXCLUDED.evicted_raw_unsynced,
            evicted_rollups = EXCLUDED.evicted_rollups, evicted_events = EXCLUDED.evicted_events,
            unsent_samples = EXCLUDED.unsent_samples, sync_lag_ms = EXCLUDED.sync_lag_ms,
            model_version = EXCLUDED.model_version, reported_at = EXCLUDED.reported_at,
            -- No VIN in this report (not read this time, or an older agent): the last one stands.
            reported_vin = COALESCE(EXCLUDED.reported_vin, h.reported_vin),
            received_at = now()
      WHERE h.reported_at < EXCLUDED.reported_at`,
    [
      col((r) => r.vehicleId),
      col((r) => r.tenantId),
      col((r) => r.health.agentVersion),
      col((r) => r.health.clockSource),
      col((r) => r.health.diskUsedBytes),
      col((r) => r.health.diskBudgetBytes),
      col((r) => r.health.evicted.rawSynced),
      col((r) => r.health.evicted.rawUnsynced),
      col((r) => r.health.evicted.rollups),
      col((r) => r.health.evicted.events),
      col((r) => r.health.unsentSamples),
      col((r) => r.health.syncLagMs),
      col((r) => r.health.modelVersion),
      col((r) => r.health.at),
      col((r) => r.health.vin ?? null),
    ],
  );
}

/** A vehicle's agent health for the panel (null fields: never reported). */
export interface VehicleHealth {
  vehicleId: string;
  online: boolean | null;
  /** The newest of: its status, its latest sample's arrival, its health report's arrival. */
  lastSeenAt: number | null;
  agentVersion: string | null;
  clockSource: string | null;
  diskUsedBytes: number | null;
  diskBudgetBytes: number | null;
  evicted: { rawSynced: number; rawUnsynced: number; rollups: number; events: number } | null;
  unsentSamples: number | null;
  syncLagMs: number | null;
  modelVersion: string | null;
  reportedAt: number | null;
  /** The VIN the agent last read from the vehicle (null: never reported). */
  reportedVin: string | null;
  /** The register's VIN, to show beside a mismatch. */
  registeredVin: string | null;
  /** The register's VIN against the reported one (vin-check.ts). */
  vinStatus: VinStatus;
}

interface Raw {
  vehicle_id: string;
  online: boolean | null;
  last_seen_at: Date | null;
  agent_version: string | null;
  clock_source: string | null;
  disk_used_bytes: string | null;
  disk_budget_bytes: string | null;
  evicted_raw_synced: string | null;
  evicted_raw_unsynced: string | null;
  evicted_rollups: string | null;
  evicted_events: string | null;
  unsent_samples: string | null;
  sync_lag_ms: string | null;
  model_version: string | null;
  reported_at: Date | null;
  reported_vin: string | null;
  registered_vin: string | null;
}

const num = (v: string | null) => (v === null ? null : Number(v));

/**
 * Every vehicle of the tenant (RLS) with its agent's health, by vehicle id. Evictions also come
 * from telemetry batches (vehicle_agent_drops): the higher figure of the two is shown, so an
 * agent too old to send health still shows what it lost.
 */
export async function listVehicleHealth(
  db: pg.PoolClient,
  tenantId: string,
  vehicleId?: string,
): Promise<VehicleHealth[]> {
  const { rows } = await db.query<Raw>(
    `SELECT v.id AS vehicle_id, v.online,
            GREATEST(v.status_at, l.received_at, h.received_at) AS last_seen_at, -- NULLs are skipped
            h.agent_version, h.clock_source, h.disk_used_bytes, h.disk_budget_bytes,
            GREATEST(h.evicted_raw_synced, d.raw_synced) AS evicted_raw_synced,
            GREATEST(h.evicted_raw_unsynced, d.raw_unsynced) AS evicted_raw_unsynced,
            GREATEST(h.evicted_rollups, d.rollups) AS evicted_rollups,
            GREATEST(h.evicted_events, d.events) AS evicted_events,
            h.unsent_samples, h.sync_lag_ms, h.model_version, h.reported_at,
            h.reported_vin, v.vin AS registered_vin
       FROM vehicles v
       LEFT JOIN vehicle_agent_health h ON h.vehicle_id = v.id
       LEFT JOIN vehicle_agent_drops d ON d.vehicle_id = v.id
       LEFT JOIN vehicle_latest l ON l.vehicle_id = v.id
      WHERE v.tenant_id = $1 AND ($2::text IS NULL OR v.id = $2)
      ORDER BY v.id`,
    [tenantId, vehicleId ?? null],
  );
  return rows.map((r) => ({
    vehicleId: r.vehicle_id,
    online: r.online,
    lastSeenAt: r.last_seen_at?.getTime() ?? null,
    agentVersion: r.agent_version,
    clockSource: r.clock_source,
    diskUsedBytes: num(r.disk_used_bytes),
    diskBudgetBytes: num(r.disk_budget_bytes),
    evicted:
      r.evicted_raw_synced === null
        ? null
        : {
            rawSynced: Number(r.evicted_raw_synced),
            rawUnsynced: Number(r.evicted_raw_unsynced),
            rollups: Number(r.evicted_rollups),
            events: Number(r.evicted_events),
          },
    unsentSamples: num(r.unsent_samples),
    syncLagMs: num(r.sync_lag_ms),
    modelVersion: r.model_version,
    reportedAt: r.reported_at?.getTime() ?? null,
    reportedVin: r.reported_vin,
    registeredVin: r.registered_vin,
    vinStatus: vinStatus(r.registered_vin, r.reported_vin),
  }));
}
