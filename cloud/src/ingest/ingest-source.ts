/**
 * Where an ingest reads its messages: the MQTT (shared) subscription by default (ingest-client.ts),
 * or durable JetStream consumers on a NATS cluster when configured (jetstream-client.ts). Its own
 * module so that neither client imports the other.
 */
import {
  type IngestConnection,
  type IngestMode,
  type SourceOptions,
  subscribeIngest,
} from './ingest-client.ts';
import { subscribeJetStream } from './jetstream-client.ts';

/** The ingest's source: JetStream when configured, else the MQTT (shared) subscription (the default). */
export async function subscribeSource(
  opts: SourceOptions,
): Promise<{ clients: IngestConnection[]; mode: IngestMode }> {
  if (opts.jetstream) return subscribeJetStream(opts, opts.jetstream);
  return subscribeIngest(opts);
}
