/**
 * MQTT topic namespace, built in one place (zigbee2mqtt's lesson: one helper that prefixes the
 * base topic and refuses wildcards, so no caller can publish to `+` or `#` by accident), and one
 * typed map from each kind to its direction and payload (TOPICS, TopicPayloads): the agent's
 * broker link publishes only the kinds the agent sends and subscribes only those it receives.
 *
 *   {base}/v1/{tenantId}/{vehicleId}/telemetry     agent -> cloud   TelemetryBatch (QoS 1), live and backfill
 *   {base}/v1/{tenantId}/{vehicleId}/status        agent -> cloud   VehicleStatus  (retained, also the MQTT will)
 *   {base}/v1/{tenantId}/{vehicleId}/ack           cloud -> agent   TelemetryAck   (QoS 0: a lost one means a resend), after COMMIT
 *   {base}/v1/{tenantId}/{vehicleId}/model         cloud -> agent   ModelArtifact  (retained, QoS 1): signed, verified before use
 *   {base}/v1/{tenantId}/{vehicleId}/events        agent -> cloud   VehicleEventBatch (QoS 1, JSON), the detectors' events
 *   {base}/v1/{tenantId}/{vehicleId}/events-ack    cloud -> agent   VehicleEventAck (TelemetryAck's shape, QoS 0), after COMMIT
 *   {base}/v1/{tenantId}/{vehicleId}/commands      cloud -> agent   AgentCommand (QoS 1), remote diagnostics
 *   {base}/v1/{tenantId}/{vehicleId}/commands-ack  agent -> cloud   AgentCommandResult (QoS 1), one per command
 *   {base}/v1/{tenantId}/{vehicleId}/commands-stream agent -> cloud  CommandStreamFrame (QoS 0), live PIDs of a streamPids
 *
 * Events get an ack topic of their own rather than a lane marker on `ack`: both lanes number
 * their batches from 1, and an agent listening on `ack` would take an events answer for the
 * telemetry batch of the same number (its schema ignores unknown fields) and move the wrong cursor.
 *
 * Backfill after an outage uses the same telemetry topic with `historical: true` in the payload
 * (Sparkplug's is_historical; on MQTT 5 also the user property `historical`), not a topic of its
 * own: the ingest's subscription and the broker ACL stay unchanged, and one vehicle's batches stay
 * in one broker queue. Live data is not starved because the agent interleaves lanes
 * (edge-agent/src/sync/telemetry-lane.ts). Every batch carries `batchSeq`, per vehicle and
 * strictly increasing across agent restarts; the ingest answers each stored batch on `ack` with
 * that batchSeq once its transaction committed, and only that answer moves the agent's cursor
 * (a broker PUBACK is not storage).
 *
 * `base` defaults to `fleet`; tests use their own base so runs on a shared broker never mix.
 */
import type { AgentCommand, AgentCommandResult, CommandStreamFrame } from './commands.ts';
import type { VehicleEventAck, VehicleEventBatch } from './events.ts';
import { ID_PATTERN } from './ids.ts';
import type { ModelArtifact } from './model-artifact.ts';
import type { TelemetryAck, TelemetryBatch, VehicleStatus } from './telemetry.ts';

export { ID_PATTERN };

export const TOPIC_VERSION = 'v1';
export const DEFAULT_BASE_TOPIC = 'fleet';

interface TopicSpec {
  /** Who publishes it; the other side subscribes. */
  from: 'agent' | 'cloud';
  qos: 0 | 1;
  retained: boolean;
}

/** Every kind of topic under a vehicle: who sends it, at which QoS, retained or not. */
export const TOPICS = {
  telemetry: { from: 'agent', qos: 1, retained: false },
  status: { from: 'agent', qos: 1, retained: true },
  ack: { from: 'cloud', qos: 0, retained: false },
  events: { from: 'agent', qos: 1, retained: false },
  'events-ack': { from: 'cloud', qos: 0, retained: false },
  model: { from: 'cloud', qos: 1, retained: true },
  commands: { from: 'cloud', qos: 1, retained: false },
  'commands-ack': { from: 'agent', qos: 1, retained: false },
  // Live readings: a lost frame is stale by the time it would be resent.
  'commands-stream': { from: 'agent', qos: 0, retained: false },
} as const satisfies Record<string, TopicSpec>;

export type TopicKind = keyof typeof TOPICS;
export const TOPIC_KINDS = Object.keys(TOPICS) as readonly TopicKind[];

/** The payload each kind carries (telemetry is encoded by encodeTelemetryBatch, the rest is JSON). */
export interface TopicPayloads {
  telemetry: TelemetryBatch;
  status: VehicleStatus;
  ack: TelemetryAck;
  events: VehicleEventBatch;
  'events-ack': VehicleEventAck;
  model: ModelArtifact;
  commands: AgentCommand;
  'commands-ack': AgentCommandResult;
  'commands-stream': CommandStreamFrame;
}
// Indexing by every TopicKind: a kind added to TOPICS without its payload type does not compile.
export type TopicPayload<K extends TopicKind> = TopicPayloads[K];

/** Kinds the agent publishes, and the kinds it subscribes to. */
export type AgentOutboundKind = {
  [K in TopicKind]: (typeof TOPICS)[K]['from'] extends 'agent' ? K : never;
}[TopicKind];
export type AgentInboundKind = Exclude<TopicKind, AgentOutboundKind>;

export class TopicError extends Error {
  override name = 'TopicError';
}

function checkSegment(what: string, value: string): string {
  if (!ID_PATTERN.test(value)) {
    throw new TopicError(`${what} "${value}" is not a valid topic segment (allowed: ${ID_PATTERN.source})`);
  }
  return value;
}

function checkBase(base: string): string {
  if (
    base.length === 0 ||
    /[+#]/.test(base) ||
    base.includes('\0') ||
    base.startsWith('/') ||
    base.endsWith('/')
  ) {
    throw new TopicError(`base topic "${base}" must be non-empty, without wildcards or leading/trailing "/"`);
  }
  return base;
}

export function vehicleTopic(
  kind: TopicKind,
  tenantId: string,
  vehicleId: string,
  base = DEFAULT_BASE_TOPIC,
) {
  return `${checkBase(base)}/${TOPIC_VERSION}/${checkSegment('tenant id', tenantId)}/${checkSegment('vehicle id', vehicleId)}/${kind}`;
}

/** Every topic of one vehicle, checked and built once. */
export function vehicleTopics(
  tenantId: string,
  vehicleId: string,
  base = DEFAULT_BASE_TOPIC,
): Record<TopicKind, string> {
  const out = {} as Record<TopicKind, string>;
  for (const kind of TOPIC_KINDS) out[kind] = vehicleTopic(kind, tenantId, vehicleId, base);
  return out;
}

/** Subscription filter for one kind across every tenant and vehicle (the cloud side). */
export function fleetFilter(kind: TopicKind, base = DEFAULT_BASE_TOPIC): string {
  return `${checkBase(base)}/${TOPIC_VERSION}/+/+/${kind}`;
}

export interface ParsedTopic {
  tenantId: string;
  vehicleId: string;
  kind: TopicKind;
}

/** Inverse of vehicleTopic; returns null for anything outside the namespace. */
export function parseVehicleTopic(topic: string, base = DEFAULT_BASE_TOPIC): ParsedTopic | null {
  const prefix = `${base}/${TOPIC_VERSION}/`;
  if (!topic.startsWith(prefix)) return null;
  const parts = topic.slice(prefix.length).split('/');
  if (parts.length !== 3) return null;
  const [tenantId, vehicleId, kind] = parts as [string, string, string];
  if (!ID_PATTERN.test(tenantId) || !ID_PATTERN.test(vehicleId)) return null;
  if (!(TOPIC_KINDS as readonly string[]).includes(kind)) return null;
  return { tenantId, vehicleId, kind: kind as TopicKind };
}
