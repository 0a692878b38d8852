/**
 * The health block of the agent's status message (shared/src/telemetry.ts AgentHealth): what a
 * technician would read with `fleet-agent db stats` and `sync status`, sent to the cloud every
 * minute so the fleet's health panel shows it without anyone at the vehicle.
 */
import { readFileSync } from 'node:fs';
import { AGENT_HEALTH_VERSION, type AgentHealth } from '@fleet/shared';
import type { SampleClock } from '../gps/clock.ts';
import type { AgentDb } from '../store/agent-db.ts';

/** This agent's release, from its package (what `npm version` bumps). */
export const AGENT_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** What the agent knows beyond its store: the active engine model and the vehicle's VIN. */
export interface HealthSources {
  modelVersion: () => string | null;
  /** The VIN the vehicle last answered (09 02); absent: this agent does not read one. */
  vin?: () => string | null;
}

export function agentHealth(
  db: AgentDb,
  clock: SampleClock,
  sources: HealthSources,
  now = Date.now(),
): AgentHealth {
  const s = db.stats();
  // now() decides the source: GPS-checked system time, GPS time alone, or nothing to trust yet.
  clock.now();
  return {
    v: AGENT_HEALTH_VERSION,
    at: now,
    agentVersion: AGENT_VERSION,
    clockSource: clock.source,
    diskUsedBytes: Math.max(0, s.fileBytes - s.freeBytes),
    diskBudgetBytes: s.diskBudgetBytes,
    evicted: s.evictions,
    unsentSamples: s.unsent,
    syncLagMs: s.oldestUnsentTs === null ? null : Math.max(0, now - s.oldestUnsentTs),
    modelVersion: sources.modelVersion(),
    ...(sources.vin ? { vin: sources.vin() } : {}),
    commandsRefused: db.seenCommands.refusals(),
  };
}
