/**
 *   ELM327 --serial--> ObdPoller --latest PIDs--+
 *                                               +--> SampleRecorder --> SampleStore (SQLite)
 *   GPS ----serial--> NmeaReader ---fix---------+                            |
 *       (or gpsd --TCP--> GpsdClient)                                       v
 *                                                          MqttSync --QoS 1--> broker
 *
 * One sample per GPS epoch: the fix's time (GPS time, right even when the Pi has no RTC, see
 * gps/clock.ts) and position, joined with the newest OBD-II readings.
 */
import type { Logger } from '@fleet/shared/log';
import type { AgentConfig } from './config.ts';
import { LiveDetectors } from './fuel/live.ts';
import { SampleClock } from './gps/clock.ts';
import type { GpsdClient } from './gps/gpsd-client.ts';
import type { GpsFix } from './gps/nmea/rmc.ts';
import type { NmeaReader } from './gps/nmea-reader.ts';
import { createGpsSource } from './gps/source.ts';
import { AgentModels } from './models/agent-models.ts';
import { ObdPoller } from './obd/obd-poller.ts';
import { SampleStore } from './store/sample-store.ts';
import { EventSync } from './sync/event-sync.ts';
import { MqttSync, type MqttSyncOptions } from './sync/mqtt-sync.ts';
import { openByteStream } from './transport/open.ts';

export function syncOptions(config: Omit<AgentConfig, 'obdPort' | 'obdBaud' | 'gpsBaud'>): MqttSyncOptions {
  return {
    url: config.mqttUrl,
    username: config.mqttUsername,
    password: config.mqttPassword,
    tenantId: config.tenantId,
    vehicleId: config.vehicleId,
    baseTopic: config.baseTopic,
    batchSize: config.metricBatchSize,
    flushIntervalMs: config.flushIntervalMs,
    flushJitterMs: config.flushJitterMs,
    backfillInflight: config.backfillInflight,
    ackFrom: config.ackFrom,
    ackTimeoutMs: config.ackTimeoutMs,
    keepaliveSec: config.keepaliveSec,
    protocol: config.mqttProtocol,
    sessionExpirySec: config.sessionExpirySec,
    caFile: config.mqttCaFile,
    certFile: config.mqttCertFile,
    keyFile: config.mqttKeyFile,
  };
}

export class Agent {
  readonly store: SampleStore;
  readonly obd: ObdPoller;
  readonly gps: NmeaReader | GpsdClient;
  readonly sync: MqttSync;
  /** The detectors' events to the cloud, on their own lane (sync/event-sync.ts). */
  readonly events: EventSync;
  /** Engine-anomaly models from the cloud, verified and hot-swapped (null without --model-public-key). */
  readonly models: AgentModels | null;
  /** The fuel and driving detectors on every recorded sample; events to SQLite (fuel/live.ts). */
  readonly detectors: LiveDetectors;
  /** Sample times: GPS time, never backwards within this run. */
  readonly clock = new SampleClock();

  constructor(
    readonly config: AgentConfig,
    private readonly log: Logger,
  ) {
    this.store = new SampleStore(config.dbPath, {
      diskBudgetBytes: config.diskBudgetBytes,
      metricBufferLimit: config.metricBufferLimit,
    });
    this.obd = new ObdPoller(() => openByteStream(config.obdPort, config.obdBaud), log.child({ ns: 'obd' }));
    this.gps = createGpsSource(config, (fix) => this.record(fix), log.child({ ns: 'gps' }));
    this.sync = new MqttSync(this.store, syncOptions(config), log.child({ ns: 'sync' }));
    this.events = new EventSync(
      { ...syncOptions(config), dbPath: config.dbPath },
      log.child({ ns: 'event-sync' }),
    );
    this.models = AgentModels.create(config, log.child({ ns: 'models' }));
    this.detectors = new LiveDetectors(
      config.dbPath,
      {
        tankLitres: config.tankLitres ?? 60,
        ...(config.speedLimitKmh ? { speedLimitKmh: config.speedLimitKmh } : {}),
      },
      log.child({ ns: 'detectors' }),
      this.models ? [this.models.detector()] : [],
      () => this.models?.activeModelVersion() ?? null,
    );
  }

  /** Outputs first, inputs last (telegraf's order), so nothing is read before it can be kept. */
  start(): void {
    this.sync.start();
    this.events.start();
    this.models
      ?.start()
      .catch((err: unknown) =>
        this.log.error({ err: (err as Error).message }, 'engine models did not start'),
      );
    void this.obd.run();
    void this.gps.run();
  }

  private record(fix: GpsFix) {
    // A receiver repeating an epoch (or a clock step back) must not create a second sample.
    const ts = this.clock.stampFix(fix);
    if (ts === null) {
      this.log.debug({ ts: fix.ts }, 'GPS epoch not newer than the last; skipped');
      return;
    }
    const obd = this.obd.latest;
    const sample = {
      ts,
      lat: fix.lat,
      lon: fix.lon,
      speedKmh: obd.speedKmh ?? fix.speedKmh,
      rpm: obd.rpm,
      fuelLevelPct: obd.fuelLevelPct,
      coolantC: obd.coolantC,
    };
    this.store.append(sample);
    // Ignition from the link: no vehicle answering is ignition off (the GPS speed fills the
    // stored sample, but must not make a silent ECU look awake); unknown while reconnecting.
    const st = this.obd.state;
    const ignition = st === 'polling' ? true : st === 'no-vehicle' ? false : null;
    this.detectors.push({ ...sample, fuelRateLph: this.obd.fuelRateLph, mafGps: null, ignition });
  }

  /** Inputs stop first, then one more flush, then the store closes. */
  async stop(): Promise<void> {
    await this.gps.stop();
    await this.obd.stop();
    await this.sync.flush().catch(() => {});
    await this.sync.stop();
    // Whatever is unacknowledged stays in SQLite and goes at the next start.
    await this.events.stop();
    await this.models?.stop();
    this.detectors.stop();
    this.store.close();
  }
}
