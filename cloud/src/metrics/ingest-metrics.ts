/**
 * What the ingest exports: totals pulled from the ingests' own `stats` at scrape time (main.ts
 * registers them), and per committed group (never per sample) the group's size, its transaction
 * time and each live batch's lag. Rejects are counted where they are dead-lettered, by a reason
 * class: the reason text itself names vehicles and tenants and would grow without bound.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { pulledCounter, registry, Sources } from './registry.ts';

/** What a telemetry ingest counts itself (TelemetryIngest.stats), as far as it is exported. */
export interface TelemetryIngestTotals {
  batches: number;
  samplesInserted: number;
  samplesDuplicate: number;
  samplesHistorical: number;
  statuses: number;
  dbRetries: number;
  agentEvictedSamples: number;
  acksSent: number;
  earlyAcks: number;
}

/** What the event ingest counts itself (EventIngest.stats). */
export interface EventIngestTotals {
  batches: number;
  eventsInserted: number;
  eventsDuplicate: number;
  dbRetries: number;
  acksSent: number;
}

const telemetry = new Sources<TelemetryIngestTotals>();
const events = new Sources<EventIngestTotals>();

/** Exports a telemetry ingest's totals (main.ts); returns the function that stops it. */
export const watchTelemetryIngest = (stats: () => TelemetryIngestTotals) => telemetry.add(stats);
/** Exports an event ingest's totals (main.ts); returns the function that stops it. */
export const watchEventIngest = (stats: () => EventIngestTotals) => events.add(stats);

pulledCounter(
  'fleet_ingest_batches_total',
  'Batches committed (telemetry: one MQTT message of samples; events: one message of detector events).',
  ['stream'],
  (add) => {
    for (const s of telemetry.values()) add({ stream: 'telemetry' }, s.batches);
    for (const s of events.values()) add({ stream: 'events' }, s.batches);
  },
);
pulledCounter(
  'fleet_ingest_samples_total',
  'Telemetry samples committed: inserted (new rows) or duplicate (a resend the key absorbed).',
  ['result'],
  (add) => {
    for (const s of telemetry.values()) {
      add({ result: 'inserted' }, s.samplesInserted);
      add({ result: 'duplicate' }, s.samplesDuplicate);
    }
  },
);
pulledCounter(
  'fleet_ingest_samples_historical_total',
  'Samples of batches their agent flagged as backfill (historical).',
  [],
  (add) => {
    for (const s of telemetry.values()) add({}, s.samplesHistorical);
  },
);
pulledCounter(
  'fleet_ingest_events_total',
  'Detector events committed: inserted or duplicate.',
  ['result'],
  (add) => {
    for (const s of events.values()) {
      add({ result: 'inserted' }, s.eventsInserted);
      add({ result: 'duplicate' }, s.eventsDuplicate);
    }
  },
);
pulledCounter(
  'fleet_ingest_statuses_total',
  'Vehicle status messages (online/offline, agent health) applied.',
  [],
  (add) => {
    for (const s of telemetry.values()) add({}, s.statuses);
  },
);
pulledCounter(
  'fleet_ingest_acks_total',
  'Acknowledgements published to agents after COMMIT (stored or refused).',
  ['stream'],
  (add) => {
    for (const s of telemetry.values()) add({ stream: 'telemetry' }, s.acksSent);
    for (const s of events.values()) add({ stream: 'events' }, s.acksSent);
  },
);
pulledCounter(
  'fleet_ingest_early_pubacks_total',
  'Telemetry messages PUBACKed on arrival because their agent waits for the ack after COMMIT.',
  [],
  (add) => {
    for (const s of telemetry.values()) add({}, s.earlyAcks);
  },
);
pulledCounter(
  'fleet_ingest_db_retries_total',
  'Group transactions retried after a database error.',
  ['stream'],
  (add) => {
    for (const s of telemetry.values()) add({ stream: 'telemetry' }, s.dbRetries);
    for (const s of events.values()) add({ stream: 'events' }, s.dbRetries);
  },
);
pulledCounter(
  'fleet_ingest_agent_evicted_samples_total',
  'Unsynced samples agents report having evicted under their disk budget (never reached the cloud).',
  [],
  (add) => {
    for (const s of telemetry.values()) add({}, s.agentEvictedSamples);
  },
);

/** Reason classes of a refused input; the reason text stays in dead_letters and the log. */
export const REJECT_REASONS = [
  'topic',
  'oversized',
  'malformed',
  'version',
  'schema',
  'vehicle_mismatch',
  'unregistered',
  'wrong_tenant',
  'database',
  'other',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/**
 * The class of a refusal reason as the decoders and the ingest word it (shared/src/telemetry.ts,
 * events.ts, ingest/classify.ts, group.ts, fuel/webhook-inbox.ts); `fallback` for any other text.
 */
export function rejectReason(reason: string, fallback: RejectReason = 'other'): RejectReason {
  const r = reason.replace(/^item \d+: /, '');
  if (r.startsWith('topic outside') || r.startsWith('ack topics')) return 'topic';
  if (r.startsWith('oversized')) return 'oversized';
  if (r.startsWith('malformed')) return 'malformed';
  if (r.startsWith('unsupported payload version')) return 'version';
  if (r.startsWith('schema') || r.startsWith('bad status payload') || r.startsWith('body is neither'))
    return 'schema';
  if (r.startsWith('payload vehicle')) return 'vehicle_mismatch';
  if (r.endsWith('is not registered') || r.includes('is not a vehicle of tenant')) return 'unregistered';
  if (r.includes('does not belong to tenant')) return 'wrong_tenant';
  if (r.startsWith('database refused')) return 'database';
  return fallback;
}

export type RejectSource = 'telemetry' | 'events' | 'fuel_cards';

const rejects = new Counter<'source' | 'reason'>({
  name: 'fleet_ingest_rejects_total',
  help: 'Refused inputs, each kept in dead_letters: by source and reason class.',
  labelNames: ['source', 'reason'],
  registers: [registry],
});

// Every known series from zero, so rate() and increase() see the first refusal of a kind.
for (const source of ['telemetry', 'events', 'fuel_cards'] satisfies RejectSource[])
  for (const reason of REJECT_REASONS) rejects.inc({ source, reason }, 0);

/** One refused input (a dead letter). Off the hot path: refusals are rare. */
export function countReject(source: RejectSource, reason: string, fallback?: RejectReason): void {
  rejects.inc({ source, reason: rejectReason(reason, fallback) });
}

const groupMessages = new Histogram<'lane'>({
  name: 'fleet_ingest_group_messages',
  help: 'MQTT messages per group transaction.',
  labelNames: ['lane'],
  buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
  registers: [registry],
});
const groupSamples = new Histogram<'lane'>({
  name: 'fleet_ingest_group_samples',
  help: 'Samples written per group transaction (the batch the database gets).',
  labelNames: ['lane'],
  buckets: [1, 10, 50, 100, 500, 1000, 2500, 5000, 10000, 25000],
  registers: [registry],
});
const commitSeconds = new Histogram<'lane'>({
  name: 'fleet_ingest_commit_seconds',
  help: 'BEGIN to COMMIT of a group transaction (the samples statement, rollups, latest, alerts).',
  labelNames: ['lane'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});
const lagSeconds = new Histogram({
  name: 'fleet_ingest_lag_seconds',
  help: "Live batches: the newest sample's time (the vehicle's GPS clock) to its COMMIT.",
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
  registers: [registry],
});
const lastCommit = new Gauge({
  name: 'fleet_ingest_last_commit_timestamp_seconds',
  help: 'When this process last committed a telemetry group (Unix time).',
  registers: [registry],
});
// Children made once: labels() hashes its argument on every call.
const byLane = {
  live: {
    messages: groupMessages.labels('live'),
    samples: groupSamples.labels('live'),
    commit: commitSeconds.labels('live'),
  },
  backfill: {
    messages: groupMessages.labels('backfill'),
    samples: groupSamples.labels('backfill'),
    commit: commitSeconds.labels('backfill'),
  },
};

/** The part of a stored batch the lag needs (TelemetryBatch). */
interface LaggingBatch {
  historical?: boolean | undefined;
  samples: readonly { ts: number }[];
}

/** One committed telemetry group: called once per transaction, after its COMMIT. */
export function recordTelemetryGroup(g: {
  lane: 'live' | 'backfill';
  messages: number;
  samples: number;
  commitSeconds: number;
  /** The batches stored; live ones give the lag (a backfill's age says nothing about the ingest). */
  batches: readonly LaggingBatch[];
  /** Epoch ms of the COMMIT. */
  committedAt: number;
}): void {
  const lane = byLane[g.lane];
  lane.messages.observe(g.messages);
  lane.samples.observe(g.samples);
  lane.commit.observe(g.commitSeconds);
  lastCommit.set(g.committedAt / 1000);
  if (g.lane !== 'live') return;
  for (const b of g.batches) {
    const newest = b.samples[b.samples.length - 1];
    if (newest && b.historical !== true) lagSeconds.observe(Math.max(0, g.committedAt - newest.ts) / 1000);
  }
}
