/**
 * One group transaction:
 *
 *   BEGIN; owners → planGroup → samples (storeSamples: rows, rollup, latest, geofence alerts)
 *          → statuses → agents' eviction counters → dead letters; COMMIT
 *
 * Everything a group holds commits together or not at all; the answers to its batches (acks)
 * are returned for sending after the COMMIT, never before.
 */

import type { DropCounters } from '@fleet/shared';
import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import type { GeofenceWatch } from '../alerts/geofence-watch.ts';
import { upsertAgentHealth } from '../db/queries/agent-health.ts';
import { insertDeadLetters } from '../db/queries/insert-dead-letter.ts';
import { updateVehicleStatus } from '../db/queries/update-vehicle-status.ts';
import { upsertAgentDrops } from '../db/queries/upsert-agent-drops.ts';
import { type OutgoingAck, telemetryAck } from './acks.ts';
import type { Classified } from './classify.ts';
import { type GroupPlan, planGroup } from './group.ts';
import type { IngestConnection } from './ingest-client.ts';
import type { ResolvedOwners, VehicleOwners } from './owners.ts';
import { storeSamples } from './store-samples.ts';

/** What a message must carry to be answered: its topic and payload, and the connection it came in on. */
export interface Answerable {
  topic: string;
  payload: Buffer;
  client: IngestConnection;
}

export interface GroupCommitContext {
  pool: pg.Pool;
  baseTopic: string;
  owners: VehicleOwners;
  geofences: GeofenceWatch;
  knownDrops: (vehicleId: string) => DropCounters | undefined;
  log: Logger;
  /** Test hook: awaited inside the transaction before COMMIT (a slow database). */
  beforeCommit?: ((db: pg.PoolClient) => Promise<void>) | undefined;
}

export interface CommittedGroup<T> {
  plan: GroupPlan<T>;
  /** Samples new to the database (the rest of `plan.rows` were stored before). */
  inserted: number;
  acks: OutgoingAck[];
}

export async function commitGroup<T extends Answerable>(
  ctx: GroupCommitContext,
  classified: readonly Classified<T>[],
): Promise<CommittedGroup<T>> {
  const db = await ctx.pool.connect();
  // pg-pool removes its own listener while a client is checked out: without one, a server
  // restart between two queries would be an uncaught 'error' and crash the process. The
  // failing query rejects anyway, and the group is retried.
  const onClientError = (err: Error) => ctx.log.warn({ err: err.message }, 'database connection lost');
  db.on('error', onClientError);
  let committed: { plan: GroupPlan<T>; inserted: number; owners: ResolvedOwners };
  try {
    await db.query('BEGIN');
    const owners = await ctx.owners.resolve(db, claims(classified));
    const plan = planGroup(classified, owners, ctx.knownDrops);
    const inserted = await storeSamples(db, plan.rows, ctx.geofences, plan.tenantIds, plan.historical > 0);
    for (const s of plan.statuses) await updateVehicleStatus(db, s.vehicleId, s.online, s.ts);
    await upsertAgentHealth(db, plan.health);
    await upsertAgentDrops(db, [...plan.drops.values()]);
    await insertDeadLetters(db, plan.letters);
    if (ctx.beforeCommit) await ctx.beforeCommit(db);
    await db.query('COMMIT');
    committed = { plan, inserted, owners };
  } catch (err) {
    await db.query('ROLLBACK').catch(() => {});
    db.off('error', onClientError);
    // A broken connection must not go back to the pool.
    db.release(err as Error);
    throw err;
  }
  db.off('error', onClientError);
  db.release();
  const { plan, inserted, owners } = committed;
  ctx.owners.remember(owners);
  const acks: OutgoingAck[] = [];
  for (const a of plan.answers) {
    const ack = telemetryAck(a.to, a.item.client, ctx.baseTopic, a.reason);
    if (ack) acks.push(ack);
  }
  return { plan, inserted, acks };
}

/** The vehicles a group names with the tenant each claims (a telemetry or status message is one). */
function* claims<T>(classified: readonly Classified<T>[]): Iterable<{ tenantId: string; vehicleId: string }> {
  for (const c of classified) if (c.kind !== 'dead') yield c;
}
