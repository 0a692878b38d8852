/**
 * One group transaction's content, decided without the database once the owners are known: the
 * samples as columns for the group statement, the statuses, the agents' grown eviction counters,
 * the refusals (dead letters) and whom to answer how.
 */
import { DROP_COUNTER_NAMES, type DropCounters, type TelemetryBatch } from '@fleet/shared';
import type { AgentHealthReport } from '../db/queries/agent-health.ts';
import type { DeadLetter } from '../db/queries/insert-dead-letter.ts';
import {
  emptyTelemetryColumns,
  pushTelemetrySample,
  type TelemetryColumns,
} from '../db/queries/insert-telemetry-rows.ts';
import type { AgentDrops } from '../db/queries/upsert-agent-drops.ts';
import type { Addressed, Classified } from './classify.ts';
import type { OwnerLookup } from './owners.ts';

/** A batch to answer: stored, or refused with `reason`. */
export interface Answer<T> {
  item: T;
  to: Addressed;
  reason?: string;
}

export interface GroupPlan<T> {
  rows: TelemetryColumns;
  /** The tenants whose samples are in `rows`, once each. */
  tenantIds: string[];
  statuses: { vehicleId: string; online: boolean; ts: number }[];
  /** Health blocks of online statuses (agents that send one), for the fleet's health panel. */
  health: AgentHealthReport[];
  /** Counters that grew past the highest known one, per vehicle. */
  drops: Map<string, AgentDrops>;
  letters: DeadLetter[];
  answers: Answer<T>[];
  /** The batches stored, in order. */
  batches: TelemetryBatch[];
  /** Samples of batches flagged historical (backfill) by their agent. */
  historical: number;
}

const NO_DROPS: DropCounters = { rawSynced: 0, rawUnsynced: 0, rollups: 0, events: 0 };

/**
 * @param owners vehicle -> owning tenant, for every vehicle the group names that is registered.
 * @param knownDrops the highest counters already committed for a vehicle.
 */
export function planGroup<T extends { topic: string; payload: Buffer }>(
  classified: readonly Classified<T>[],
  owners: OwnerLookup,
  knownDrops: (vehicleId: string) => DropCounters | undefined,
): GroupPlan<T> {
  const plan: GroupPlan<T> = {
    rows: emptyTelemetryColumns(),
    tenantIds: [],
    statuses: [],
    health: [],
    drops: new Map(),
    letters: [],
    answers: [],
    batches: [],
    historical: 0,
  };
  const tenants = new Set<string>();
  const refuse = (item: T, reason: string, to?: Addressed) => {
    plan.letters.push({ topic: item.topic, reason, payload: item.payload });
    if (to) plan.answers.push({ item, to, reason });
  };
  for (const c of classified) {
    if (c.kind === 'dead') {
      refuse(c.item, c.reason, c.refusedBatch);
      continue;
    }
    const to = c.kind === 'telemetry' ? c : undefined;
    const owner = owners.get(c.vehicleId);
    if (owner === undefined) {
      refuse(c.item, `vehicle "${c.vehicleId}" is not registered`, to);
      continue;
    }
    if (owner !== c.tenantId) {
      refuse(c.item, `vehicle "${c.vehicleId}" does not belong to tenant "${c.tenantId}"`, to);
      continue;
    }
    if (c.kind === 'status') {
      plan.statuses.push({ vehicleId: c.vehicleId, online: c.status.state === 'online', ts: c.status.ts });
      if (c.status.health)
        plan.health.push({ tenantId: c.tenantId, vehicleId: c.vehicleId, health: c.status.health });
      continue;
    }
    plan.batches.push(c.batch);
    plan.answers.push({ item: c.item, to: c });
    tenants.add(c.tenantId);
    if (c.batch.historical === true) plan.historical += c.batch.samples.length;
    // Cumulative on the agent: written only when a figure grew past the highest one known.
    const reported = c.batch.dropped;
    if (reported) {
      const prev = plan.drops.get(c.vehicleId) ?? knownDrops(c.vehicleId) ?? NO_DROPS;
      if (DROP_COUNTER_NAMES.some((k) => reported[k] > prev[k])) {
        const next = { tenantId: c.tenantId, vehicleId: c.vehicleId, ...prev };
        for (const k of DROP_COUNTER_NAMES) next[k] = Math.max(prev[k], reported[k]);
        plan.drops.set(c.vehicleId, next);
      }
    }
    for (const s of c.batch.samples) pushTelemetrySample(plan.rows, c.tenantId, c.vehicleId, s);
  }
  plan.tenantIds = [...tenants];
  return plan;
}
