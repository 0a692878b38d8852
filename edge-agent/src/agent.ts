/**
 *   ELM327 --serial--> ObdPoller --latest PIDs--+
 *                                               +--> SampleRecorder --> SampleStore (SQLite)
 *   GPS ----serial--> NmeaReader ---fix---------+                            |
 *                                                                           v
 *                                                          MqttSync --QoS 1--> broker
 *
 * One sample per GPS epoch: the fix's time (GPS time, right even when the Pi has no RTC) and
 * position, joined with the newest OBD-II readings.
 */
import type { Logger } from '@fleet/shared/log';
import type { AgentConfig } from './config.ts';
import type { GpsFix } from './gps/nmea/rmc.ts';
import { NmeaReader } from './gps/nmea-reader.ts';
import { ObdPoller } from './obd/obd-poller.ts';
import { SampleStore } from './store/sample-store.ts';
import { MqttSync } from './sync/mqtt-sync.ts';
import { openByteStream } from './transport/open.ts';

export class Agent {
  readonly store: SampleStore;
  readonly obd: ObdPoller;
  readonly gps: NmeaReader;
  readonly sync: MqttSync;
  private lastTs = 0;

  constructor(
    readonly config: AgentConfig,
    private readonly log: Logger,
  ) {
    this.store = new SampleStore(config.dbPath);
    this.obd = new ObdPoller(() => openByteStream(config.obdPort, config.obdBaud), log.child({ ns: 'obd' }));
    this.gps = new NmeaReader(
      () => openByteStream(config.gpsNmeaPort, config.gpsBaud),
      (fix) => this.record(fix),
      log.child({ ns: 'gps' }),
    );
    this.sync = new MqttSync(
      this.store,
      {
        url: config.mqttUrl,
        username: config.mqttUsername,
        password: config.mqttPassword,
        tenantId: config.tenantId,
        vehicleId: config.vehicleId,
        baseTopic: config.baseTopic,
        batchSize: config.batchSize,
        flushIntervalMs: config.flushIntervalMs,
        flushJitterMs: config.flushJitterMs,
      },
      log.child({ ns: 'sync' }),
    );
  }

  /** Outputs first, inputs last (telegraf's order), so nothing is read before it can be kept. */
  start(): void {
    this.sync.start();
    void this.obd.run();
    void this.gps.run();
  }

  private record(fix: GpsFix) {
    // A receiver repeating an epoch (or a clock step back) must not create a second sample.
    if (fix.ts <= this.lastTs) {
      this.log.debug({ ts: fix.ts, lastTs: this.lastTs }, 'GPS epoch not newer than the last; skipped');
      return;
    }
    this.lastTs = fix.ts;
    const obd = this.obd.latest;
    this.store.append({
      ts: fix.ts,
      lat: fix.lat,
      lon: fix.lon,
      speedKmh: obd.speedKmh ?? fix.speedKmh,
      rpm: obd.rpm,
      fuelLevelPct: obd.fuelLevelPct,
      coolantC: obd.coolantC,
    });
  }

  /** Inputs stop first, then one more flush, then the store closes. */
  async stop(): Promise<void> {
    await this.gps.stop();
    await this.obd.stop();
    await this.sync.flush().catch(() => {});
    await this.sync.stop();
    this.store.close();
  }
}
