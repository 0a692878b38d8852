/**
 * `fleet-agent sync status|flush`: what the store still has to send, and sending it now.
 *
 *   sync status [--json]              link state (as the daemon last wrote it), unsent samples and
 *                                     batches, oldest unsent age, last PUBACK, evictions
 *   sync flush [--timeout S] [--json] connect, send everything pending (flagged historical),
 *                                     exit 0 when drained, 1 when the timeout came first
 *
 * Also exports the MQTT/sync options shared with `run` (one definition, one set of ranges).
 */
import { existsSync } from 'node:fs';
import { DEFAULT_BASE_TOPIC } from '@fleet/shared';
import { createLogger } from '@fleet/shared/log';
import { type Command, Option } from 'commander';
import { AgentConfig } from '../config.ts';
import { AgentError, AgentErrorCode } from '../errors.ts';
import { AgentDb } from '../store/agent-db.ts';
import { BrokerLink, brokerLinkOptions } from '../sync/broker-link.ts';
import { readCredentialsFile } from './provision.ts';

export interface SyncCliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}
const consoleIo: SyncCliIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

/** The store options every command that opens the database takes. */
export function addDbOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--db <file>', 'SQLite store').env('FLEET_AGENT_DB').default('data/agent.db'),
  );
}

/** MQTT, TLS and telegraf-style buffer options, shared by `run` and `sync flush`. */
export function addSyncOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--tenant <id>', 'tenant id').env('FLEET_TENANT_ID').default('demo'))
    .addOption(
      new Option('--mqtt-url <url>', 'MQTT broker URL (mqtt:// or mqtts://)')
        .env('MQTT_URL')
        .default('mqtt://127.0.0.1:1884'),
    )
    .addOption(
      new Option(
        '--mqtt-urls <list>',
        'comma-separated brokers of a cluster to fail over between (mqtt://HOST:PORT,...); replaces --mqtt-url',
      ).env('FLEET_MQTT_URLS'),
    )
    .addOption(
      new Option('--mqtt-protocol <v>', 'auto (5, else 3.1.1), 5 or 4')
        .env('FLEET_MQTT_PROTOCOL')
        .default('auto'),
    )
    .addOption(new Option('--mqtt-ca <file>', 'PEM CA to trust for mqtts://').env('FLEET_MQTT_CA'))
    .addOption(new Option('--mqtt-cert <file>', 'PEM client certificate').env('FLEET_MQTT_CERT'))
    .addOption(new Option('--mqtt-key <file>', 'PEM client key').env('FLEET_MQTT_KEY'))
    .addOption(
      new Option('--session-expiry <s>', 'MQTT 5 session expiry [0...4294967295] s')
        .env('FLEET_SESSION_EXPIRY_S')
        .default('604800'),
    )
    .addOption(
      new Option('--base-topic <topic>', 'MQTT base topic')
        .env('FLEET_BASE_TOPIC')
        .default(DEFAULT_BASE_TOPIC),
    )
    .addOption(
      new Option('--metric-batch-size <n>', 'samples per MQTT batch [1...5000]')
        .env('FLEET_BATCH_SIZE')
        .default('500'),
    )
    .addOption(new Option('--batch-size <n>', 'alias of --metric-batch-size').hideHelp())
    .addOption(
      new Option('--metric-buffer-limit <n>', 'unsent samples kept at most [1000...1e9]')
        .env('FLEET_METRIC_BUFFER_LIMIT')
        .default('50000000'),
    )
    .addOption(
      new Option('--flush-interval <ms>', 'ms between flushes [50...600000]')
        .env('FLEET_FLUSH_INTERVAL_MS')
        .default('1000'),
    )
    .addOption(
      new Option('--flush-jitter <ms>', 'random extra ms per flush [0...60000]')
        .env('FLEET_FLUSH_JITTER_MS')
        .default('200'),
    )
    .addOption(
      new Option('--backfill-inflight <n>', 'backfill batches in flight next to live [1...64]')
        .env('FLEET_BACKFILL_INFLIGHT')
        .default('4'),
    )
    .addOption(
      new Option(
        '--ack-from <who>',
        'what confirms a batch: the ingest after its COMMIT, or the broker PUBACK alone',
      )
        .choices(['cloud', 'broker'])
        .env('FLEET_ACK_FROM')
        .default('cloud'),
    )
    .addOption(
      new Option('--ack-timeout <ms>', 'ms to wait for the cloud ack before resending [100...600000]')
        .env('FLEET_ACK_TIMEOUT_MS')
        .default('30000'),
    )
    .addOption(
      new Option(
        '--keepalive <s>',
        'MQTT keepalive; a silent dead link is noticed after 1.5x this [5...1200]',
      )
        .env('FLEET_MQTT_KEEPALIVE_S')
        .default('30'),
    )
    .addOption(
      new Option('--credentials-file <path>', 'MQTT credentials stored by `fleet-agent provision`').env(
        'FLEET_MQTT_CREDENTIALS_FILE',
      ),
    )
    .addOption(
      new Option('--disk-budget <bytes>', 'SQLite bytes before eviction [1 MiB...1 TiB], default 4 GiB')
        .env('FLEET_DISK_BUDGET_BYTES')
        .default(String(4 * 1024 ** 3)),
    );
}

/** MQTT_USERNAME / MQTT_PASSWORD win; else the file `fleet-agent provision` wrote, when there is one. */
function mqttCredentials(file: string | undefined, env: NodeJS.ProcessEnv) {
  if (env.MQTT_USERNAME || env.MQTT_PASSWORD)
    return { mqttUsername: env.MQTT_USERNAME, mqttPassword: env.MQTT_PASSWORD };
  const path = file ?? env.FLEET_MQTT_CREDENTIALS_FILE;
  if (!path || !existsSync(path)) return {};
  const c = readCredentialsFile(path);
  return { mqttUsername: c.username, mqttPassword: c.password };
}

/** The sync part of AgentConfig from the options above; credentials only from the environment or the provisioned file. */
export function syncConfigFrom(o: Record<string, string | undefined>, env = process.env) {
  const parsed = AgentConfig.omit({ obdPort: true, obdBaud: true, gpsBaud: true }).safeParse({
    tenantId: o.tenant,
    vehicleId: o.vehicle,
    dbPath: o.db,
    mqttUrl: o.mqttUrl,
    mqttUrls: o.mqttUrls
      ?.split(',')
      .map((u) => u.trim())
      .filter((u) => u.length > 0),
    // Secrets only from the environment or the provisioned file: a flag would show in `ps`.
    ...mqttCredentials(o.credentialsFile, env),
    mqttCaFile: o.mqttCa,
    mqttCertFile: o.mqttCert,
    mqttKeyFile: o.mqttKey,
    mqttProtocol: o.mqttProtocol,
    sessionExpirySec: o.sessionExpiry,
    baseTopic: o.baseTopic,
    metricBatchSize: o.batchSize ?? o.metricBatchSize,
    metricBufferLimit: o.metricBufferLimit,
    flushIntervalMs: o.flushInterval,
    flushJitterMs: o.flushJitter,
    backfillInflight: o.backfillInflight,
    ackFrom: o.ackFrom,
    ackTimeoutMs: o.ackTimeout,
    keepaliveSec: o.keepalive,
    diskBudgetBytes: o.diskBudget,
  });
  if (!parsed.success) {
    throw new AgentError(
      AgentErrorCode.ConfigInvalid,
      `invalid sync settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

export interface StatusOptions {
  db: string;
  json?: boolean;
  batchSize?: string | number;
}

export function syncStatus(o: StatusOptions, io: SyncCliIo = consoleIo, now = Date.now()): number {
  const db = new AgentDb(o.db);
  try {
    const st = db.stats();
    const link = db.linkState();
    const batchSize = Number(o.batchSize ?? 500);
    const doc = {
      connected: link?.connected ?? false,
      linkSince: link?.since ?? null,
      broker: link?.broker ?? null,
      unsentSamples: st.unsent,
      unsentBatches: Math.ceil(st.unsent / batchSize),
      oldestUnsentTs: st.oldestUnsentTs,
      oldestUnsentAgeMs: st.oldestUnsentTs === null ? null : now - st.oldestUnsentTs,
      ackedSeq: st.ackedSeq,
      lastSeq: st.lastSeq,
      lastBatchSeq: st.lastBatchSeq,
      lastAckAt: st.lastAckAt,
      evictions: st.evictions,
    };
    if (o.json) io.out(JSON.stringify(doc));
    else {
      const iso = (t: number | null) => (t === null ? '-' : new Date(t).toISOString());
      io.out(
        `Link            ${doc.connected ? 'connected' : 'disconnected'} since ${iso(doc.linkSince)} ${doc.broker ?? ''}`.trimEnd(),
      );
      io.out(`Unsent          ${doc.unsentSamples} samples (${doc.unsentBatches} batches of ${batchSize})`);
      io.out(
        `Oldest unsent   ${iso(doc.oldestUnsentTs)}${doc.oldestUnsentAgeMs === null ? '' : ` (${Math.round(doc.oldestUnsentAgeMs / 1000)} s ago)`}`,
      );
      io.out(
        `Last PUBACK     ${iso(doc.lastAckAt)} (batch ${doc.lastBatchSeq}, cursor ${doc.ackedSeq}/${doc.lastSeq})`,
      );
      io.out(
        `Evicted         ${Object.entries(doc.evictions)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    }
    return 0;
  } finally {
    db.close();
  }
}

export type FlushOptions = { [key: string]: string | boolean | undefined; timeout?: string; json?: boolean };

export async function syncFlush(o: FlushOptions, io: SyncCliIo = consoleIo): Promise<number> {
  const config = syncConfigFrom(o as Record<string, string | undefined>);
  const timeoutMs = Number(o.timeout ?? 60) * 1000;
  const log = createLogger('sync-flush', { vehicle: config.vehicleId });
  const db = new AgentDb(config.dbPath, {
    diskBudgetBytes: config.diskBudgetBytes,
    metricBufferLimit: config.metricBufferLimit,
  });
  const before = db.samples.countUnsent();
  // Its own client id: a running daemon keeps its session; both may send, the cloud dedupes by seq.
  const link = new BrokerLink(
    db,
    {
      ...brokerLinkOptions(config),
      clientId: `fleet-agent-${config.tenantId}-${config.vehicleId}-flush`,
      flushIntervalMs: 600_000,
    },
    log,
  );
  const started = Date.now();
  let drained = false;
  let error: string | null = null;
  try {
    link.start();
    await link.waitConnected(timeoutMs);
    while (Date.now() - started < timeoutMs) {
      await link.telemetry.flush();
      if (db.samples.countUnsent() === 0) {
        drained = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    error = (err as Error).message;
  } finally {
    await link.stop();
  }
  const remaining = db.samples.countUnsent();
  db.close();
  const doc = {
    drained,
    sentSamples: link.telemetry.stats.samplesSent,
    sentBatches: link.telemetry.stats.batchesSent,
    unsentBefore: before,
    remaining,
    ms: Date.now() - started,
    ...(error ? { error } : {}),
  };
  if (o.json) io.out(JSON.stringify(doc));
  else
    io.out(
      `${drained ? 'drained' : 'NOT drained'}: sent ${doc.sentSamples} samples in ${doc.sentBatches} batches, ${remaining} left${error ? ` (${error})` : ''}`,
    );
  return drained ? 0 : 1;
}

export function registerSyncCommands(program: Command, io: SyncCliIo = consoleIo): void {
  const sync = program
    .command('sync')
    .description('Store-and-forward sync: what is pending, and send it now.');
  addDbOption(
    sync
      .command('status')
      .description('Link state, unsent samples and batches, oldest unsent age, last PUBACK, evictions.')
      .option('--batch-size <n>', 'samples per batch, to count batches', '500')
      .option('--json', 'machine-readable output'),
  ).action((o: StatusOptions) => {
    process.exitCode = syncStatus(o, io);
  });
  addSyncOptions(
    addDbOption(
      sync
        .command('flush')
        .description('Connect, send everything pending, exit 0 when drained (1 on timeout).')
        .addOption(new Option('--vehicle <id>', 'vehicle id').env('FLEET_VEHICLE_ID').makeOptionMandatory())
        .option('--timeout <s>', 'give up after S seconds', '60')
        .option('--json', 'machine-readable output'),
    ),
  ).action(async (o: FlushOptions) => {
    process.exitCode = await syncFlush(o, io);
  });
}
