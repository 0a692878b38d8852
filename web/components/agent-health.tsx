'use client';

import { formatNumber, MISSING } from '../lib/format.ts';
import type { trpc } from '../lib/trpc.ts';
import { UtcTime } from './utc-time.tsx';

export type AgentHealthRow = Awaited<ReturnType<typeof trpc.devices.health.query>>[number];

const CLOCK_LABELS: Record<string, string> = {
  gps: 'GPS (system clock off)',
  system: 'System clock, checked against GPS',
  unsynced: 'Not synced yet',
};

/** Disk budget use as "1.2 of 4.0 GB (30 %)". */
export function formatDiskUse(used: number | null, budget: number | null): string {
  if (used === null || budget === null || budget <= 0) return MISSING;
  return `${formatNumber(used / 1e9, 2)} of ${formatNumber(budget / 1e9, 1)} GB (${formatNumber((100 * used) / budget)} %)`;
}

export function formatSyncLag(ms: number | null, unsent: number | null): string {
  if (unsent === 0 || (unsent !== null && ms === null)) return 'In sync';
  if (ms === null) return MISSING;
  const s = ms / 1000;
  const text =
    s < 120
      ? `${formatNumber(s)} s`
      : s < 7200
        ? `${formatNumber(s / 60)} min`
        : `${formatNumber(s / 3600, 1)} h`;
  return `${text} behind (${formatNumber(unsent)} samples)`;
}

/**
 * The VIN the agent reads from the vehicle against the register's: a mismatch says both, so whoever
 * reads it can tell an adapter in the wrong vehicle from a typo in the register.
 */
export function formatVinCheck(
  h: Pick<AgentHealthRow, 'reportedVin' | 'registeredVin' | 'vinStatus'>,
): string {
  switch (h.vinStatus) {
    case 'match':
      return `${h.reportedVin} (the registered VIN)`;
    case 'mismatch':
      return `⚠ ${h.reportedVin} — not the registered VIN (${h.registeredVin})`;
    case 'unregistered':
      return `${h.reportedVin} (no VIN registered)`;
    default:
      return 'Not reported';
  }
}

export function evictedTotal(h: AgentHealthRow): number | null {
  return h.evicted
    ? h.evicted.rawSynced + h.evicted.rawUnsynced + h.evicted.rollups + h.evicted.events
    : null;
}

/** The agent-health panel of one vehicle (vehicle page). */
export function AgentHealthPanel({ health }: { health: AgentHealthRow }) {
  const evicted = evictedTotal(health);
  return (
    <dl className="detail-grid" data-section="agent-health">
      <div>
        <dt>Agent version</dt>
        <dd>{health.agentVersion ?? 'Not reported (agent too old or never connected)'}</dd>
      </div>
      <div>
        <dt>Last seen</dt>
        <dd>
          <UtcTime ms={health.lastSeenAt} />
        </dd>
      </div>
      <div>
        <dt>Clock source</dt>
        <dd>{health.clockSource ? (CLOCK_LABELS[health.clockSource] ?? health.clockSource) : MISSING}</dd>
      </div>
      <div>
        <dt>Disk budget use</dt>
        <dd>{formatDiskUse(health.diskUsedBytes, health.diskBudgetBytes)}</dd>
      </div>
      <div>
        <dt>Evicted rows</dt>
        <dd>
          {evicted === null
            ? MISSING
            : evicted === 0
              ? 'None'
              : `${formatNumber(evicted)} (unsynced samples: ${formatNumber(health.evicted!.rawUnsynced)})`}
        </dd>
      </div>
      <div>
        <dt>Sync lag</dt>
        <dd>{formatSyncLag(health.syncLagMs, health.unsentSamples)}</dd>
      </div>
      <div>
        <dt>Engine model</dt>
        <dd>{health.modelVersion ?? (health.agentVersion ? 'None installed' : MISSING)}</dd>
      </div>
      <div data-field="vin" data-vin-status={health.vinStatus}>
        <dt>VIN</dt>
        <dd>
          {health.vinStatus === 'mismatch' ? (
            <strong>{formatVinCheck(health)}</strong>
          ) : (
            formatVinCheck(health)
          )}
        </dd>
      </div>
    </dl>
  );
}

/** Five minutes behind: data is waiting on the vehicle for longer than a reconnect takes. */
const LAGGING_MS = 5 * 60_000;

/**
 * The fleet's agent health in one panel (fleet page): how many agents report, which lag, lose
 * rows or run near their disk budget; the per-vehicle table is on the devices page.
 */
export function FleetAgentHealthPanel({ rows }: { rows: AgentHealthRow[] }) {
  const reporting = rows.filter((h) => h.agentVersion !== null);
  const lagging = reporting.filter((h) => (h.syncLagMs ?? 0) > LAGGING_MS);
  const evicting = rows.filter((h) => (h.evicted?.rawUnsynced ?? 0) > 0);
  const full = reporting.filter(
    (h) => h.diskBudgetBytes && h.diskUsedBytes !== null && h.diskUsedBytes / h.diskBudgetBytes >= 0.9,
  );
  const versions = [...new Set(reporting.map((h) => h.agentVersion))].sort();
  const elsewhere = rows.filter((h) => h.vinStatus === 'mismatch');
  const names = (list: AgentHealthRow[]) =>
    list.length === 0 ? 'none' : list.map((h) => h.vehicleId).join(', ');
  return (
    <dl className="detail-grid" data-section="fleet-agent-health">
      <div>
        <dt>Agents reporting health</dt>
        <dd>
          {formatNumber(reporting.length)} of {formatNumber(rows.length)}
        </dd>
      </div>
      <div>
        <dt>Agent versions</dt>
        <dd>{versions.length === 0 ? MISSING : versions.join(', ')}</dd>
      </div>
      <div>
        <dt>More than 5 min behind</dt>
        <dd>{names(lagging)}</dd>
      </div>
      <div>
        <dt>Lost unsynced samples</dt>
        <dd>{names(evicting)}</dd>
      </div>
      <div>
        <dt>Disk budget 90 % used or more</dt>
        <dd>{names(full)}</dd>
      </div>
      <div>
        <dt>VIN not the registered one</dt>
        <dd>{names(elsewhere)}</dd>
      </div>
    </dl>
  );
}
