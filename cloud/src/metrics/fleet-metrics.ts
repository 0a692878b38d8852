/**
 * The fleet as the database knows it, per vehicle group: vehicles online and offline, and what
 * their agents report in the health block of their status (shared/src/telemetry.ts AgentHealth,
 * stored by the ingest in vehicle_agent_health): unsent samples (outbox depth), sync lag,
 * evictions under the disk budget, disk use, clock source.
 *
 *   scrape ──> one aggregate query (cached `maxAgeMs`, shared by every gauge below) ──> gauges
 *
 * Per group, never per vehicle: a label per vehicle would make 10,000 series of each figure.
 * Groups are labelled `tenant` + `group` (the group's name; ungrouped vehicles "(no group)").
 * Every cloud process exports the same figures (they come from the one database): dashboards and
 * rules take `max by (tenant, group)`, not `sum`.
 */
import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import { Gauge } from 'prom-client';
import { registry } from './registry.ts';

/** Health reports older than this are from agents that stopped reporting: not "current" figures. */
const CURRENT_REPORT = '10 minutes';
export const NO_GROUP = '(no group)';

interface GroupRow {
  tenant_id: string;
  group_name: string;
  online: string;
  offline: string;
  unknown: string;
  reporting: string;
  unsent: string | null;
  sync_lag_ms: string | null;
  ev_raw_synced: string | null;
  ev_raw_unsynced: string | null;
  ev_rollups: string | null;
  ev_events: string | null;
  clock_gps: string;
  clock_system: string;
  clock_unsynced: string;
  disk_used: string | null;
  disk_budget: string | null;
  disk_ratio: number | null;
}

interface Snapshot {
  groups: GroupRow[];
  outbox: { status: string; n: string }[];
}

const GROUPS_SQL = `
  SELECT v.tenant_id, coalesce(g.name, '${NO_GROUP}') AS group_name,
         count(*) FILTER (WHERE v.online) AS online,
         count(*) FILTER (WHERE v.online = false) AS offline,
         count(*) FILTER (WHERE v.online IS NULL) AS unknown,
         count(h.vehicle_id) AS reporting,
         sum(h.unsent_samples) AS unsent,
         max(h.sync_lag_ms) AS sync_lag_ms,
         sum(h.evicted_raw_synced) AS ev_raw_synced, sum(h.evicted_raw_unsynced) AS ev_raw_unsynced,
         sum(h.evicted_rollups) AS ev_rollups, sum(h.evicted_events) AS ev_events,
         count(*) FILTER (WHERE h.clock_source = 'gps') AS clock_gps,
         count(*) FILTER (WHERE h.clock_source = 'system') AS clock_system,
         count(*) FILTER (WHERE h.clock_source = 'unsynced') AS clock_unsynced,
         sum(h.disk_used_bytes) AS disk_used, sum(h.disk_budget_bytes) AS disk_budget,
         max(h.disk_used_bytes::float8 / nullif(h.disk_budget_bytes, 0)) AS disk_ratio
    FROM vehicles v
    LEFT JOIN vehicle_groups g ON g.id = v.group_id
    LEFT JOIN vehicle_agent_health h
           ON h.vehicle_id = v.id AND h.received_at > now() - interval '${CURRENT_REPORT}'
   WHERE v.retired_at IS NULL
   GROUP BY 1, 2`;

// The partial indexes of migration 000015 answer these two statuses without a scan.
const OUTBOX_SQL = `
  SELECT status, count(*) AS n FROM notification_deliveries
   WHERE status IN ('queued', 'held') GROUP BY status`;

type GroupLabels = 'tenant' | 'group';

/**
 * Exports the fleet's figures from this database (main.ts); returns the function that stops it.
 * A failed query leaves these gauges out of that scrape (no figure rather than a stale one) and
 * logs why; the process's other metrics are still served.
 */
export function watchFleetDatabase(pool: pg.Pool, log: Logger, maxAgeMs = 5000): () => void {
  let cached: { at: number; snapshot: Promise<Snapshot> } | undefined;
  const snapshot = (): Promise<Snapshot> => {
    const now = Date.now();
    if (!cached || now - cached.at > maxAgeMs) {
      const snapshot = Promise.all([pool.query<GroupRow>(GROUPS_SQL), pool.query(OUTBOX_SQL)]).then(
        ([g, o]) => ({ groups: g.rows, outbox: o.rows as Snapshot['outbox'] }),
      );
      cached = { at: now, snapshot };
      snapshot.catch((err: unknown) => {
        if (cached?.snapshot === snapshot) cached = undefined;
        log.warn({ err: (err as Error).message }, 'fleet metrics not read');
      });
    }
    return cached.snapshot;
  };

  const perGroup = (row: GroupRow) => ({ tenant: row.tenant_id, group: row.group_name });
  const n = (v: string | null) => Number(v ?? 0);
  /** A gauge filled from the snapshot at each scrape; groups come and go, so it starts empty each time. */
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (g: Gauge<L>, s: Snapshot) => void,
  ) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        let s: Snapshot;
        try {
          s = await snapshot();
        } catch {
          return;
        }
        fill(this, s);
      },
    });
  const gauges = [
    gauge<GroupLabels | 'state'>(
      'fleet_vehicles',
      'Vehicles in service by their last status: online, offline (the MQTT will or a clean stop), unknown (never sent one).',
      ['tenant', 'group', 'state'],
      (g, s) => {
        for (const r of s.groups) {
          g.set({ ...perGroup(r), state: 'online' }, n(r.online));
          g.set({ ...perGroup(r), state: 'offline' }, n(r.offline));
          g.set({ ...perGroup(r), state: 'unknown' }, n(r.unknown));
        }
      },
    ),
    gauge<GroupLabels>(
      'fleet_agents_reporting',
      `Agents whose health report arrived within ${CURRENT_REPORT} (the figures below are theirs).`,
      ['tenant', 'group'],
      (g, s) => {
        for (const r of s.groups) g.set(perGroup(r), n(r.reporting));
      },
    ),
    gauge<GroupLabels>(
      'fleet_agent_unsent_samples',
      "Samples waiting in the agents' outboxes, not yet acknowledged by the cloud (sum over the group).",
      ['tenant', 'group'],
      (g, s) => {
        for (const r of s.groups) g.set(perGroup(r), n(r.unsent));
      },
    ),
    gauge<GroupLabels>(
      'fleet_agent_sync_lag_seconds',
      'Age of the oldest sample an agent has not had acknowledged (the worst agent of the group).',
      ['tenant', 'group'],
      (g, s) => {
        for (const r of s.groups) g.set(perGroup(r), n(r.sync_lag_ms) / 1000);
      },
    ),
    gauge<GroupLabels | 'kind'>(
      'fleet_agent_evicted_rows',
      'Rows the agents evicted under their disk budget since their store was created (sum; raw_unsynced never reached the cloud).',
      ['tenant', 'group', 'kind'],
      (g, s) => {
        for (const r of s.groups) {
          g.set({ ...perGroup(r), kind: 'raw_synced' }, n(r.ev_raw_synced));
          g.set({ ...perGroup(r), kind: 'raw_unsynced' }, n(r.ev_raw_unsynced));
          g.set({ ...perGroup(r), kind: 'rollups' }, n(r.ev_rollups));
          g.set({ ...perGroup(r), kind: 'events' }, n(r.ev_events));
        }
      },
    ),
    gauge<GroupLabels | 'source'>(
      'fleet_agent_clock_source',
      'Agents by where their sample times come from: gps, system (checked against GPS), unsynced.',
      ['tenant', 'group', 'source'],
      (g, s) => {
        for (const r of s.groups) {
          g.set({ ...perGroup(r), source: 'gps' }, n(r.clock_gps));
          g.set({ ...perGroup(r), source: 'system' }, n(r.clock_system));
          g.set({ ...perGroup(r), source: 'unsynced' }, n(r.clock_unsynced));
        }
      },
    ),
    gauge<GroupLabels>(
      'fleet_agent_disk_used_bytes',
      "The agents' stores on disk (sum).",
      ['tenant', 'group'],
      (g, s) => {
        for (const r of s.groups) g.set(perGroup(r), n(r.disk_used));
      },
    ),
    gauge<GroupLabels>(
      'fleet_agent_disk_budget_bytes',
      "The agents' disk budgets (sum).",
      ['tenant', 'group'],
      (g, s) => {
        for (const r of s.groups) g.set(perGroup(r), n(r.disk_budget));
      },
    ),
    gauge<GroupLabels>(
      'fleet_agent_disk_used_ratio',
      'The fullest agent of the group: its store size over its disk budget (1 = evicting).',
      ['tenant', 'group'],
      (g, s) => {
        for (const r of s.groups) g.set(perGroup(r), r.disk_ratio ?? 0);
      },
    ),
    gauge<'status'>(
      'fleet_notification_outbox',
      'Deliveries in the outbox not yet handed to the job queue (queued) or waiting for a digest (held).',
      ['status'],
      (g, s) => {
        const by = new Map(s.outbox.map((r) => [r.status, Number(r.n)]));
        for (const status of ['queued', 'held']) g.set({ status }, by.get(status) ?? 0);
      },
    ),
  ];
  return () => {
    for (const g of gauges) registry.removeSingleMetric((g as unknown as { name: string }).name);
  };
}
