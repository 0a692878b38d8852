/**
 *   ELM327 --serial--> ObdPoller --latest PIDs--+
 *                                               +--> SampleRecorder --> AgentDb (SQLite) --+
 *   GPS ----serial--> NmeaReader ---fix---------+         |              samples, events   |
 *       (or gpsd --TCP--> GpsdClient)                     v                                v
 *                                            LiveDetectors (events)      BrokerLink: one MQTT session,
 *   ObdPoller --DiagnosticReading--> DiagnosticsWatch (events)          lanes telemetry, events,
 *     (trouble codes, ATRV, ignition)                                    model, commands --> broker
 *
 * The wiring of `fleet-agent run`: what runs, in which order it starts and stops.
 */
import type { KeyObject } from 'node:crypto';
import { keepRecentLogs, type Logger } from '@fleet/shared/log';
import { readEd25519Key } from '@fleet/shared/model-verify';
import { PidStreams } from './commands/pid-stream.ts';
import { registerRemoteCommands } from './commands/remote-commands.ts';
import type { AgentConfig } from './config.ts';
import { DiagnosticsWatch } from './diagnostics/diagnostics-watch.ts';
import { AgentError, AgentErrorCode } from './errors.ts';
import { LiveDetectors } from './fuel/live.ts';
import { SampleClock } from './gps/clock.ts';
import type { GpsdClient } from './gps/gpsd-client.ts';
import type { NmeaReader } from './gps/nmea-reader.ts';
import { createGpsSource } from './gps/source.ts';
import { AgentModels } from './models/agent-models.ts';
import { ObdPoller } from './obd/obd-poller.ts';
import { SampleRecorder } from './recorder.ts';
import { AgentDb } from './store/agent-db.ts';
import { agentHealth } from './sync/agent-health.ts';
import { BrokerLink, brokerLinkOptions } from './sync/broker-link.ts';
import { openByteStream } from './transport/open.ts';

export class Agent {
  readonly db: AgentDb;
  readonly obd: ObdPoller;
  readonly gps: NmeaReader | GpsdClient;
  /** The one broker connection and its lanes (telemetry, events, model, commands). */
  readonly link: BrokerLink;
  /** Engine-anomaly models from the cloud, verified and hot-swapped (null without --model-public-key). */
  readonly models: AgentModels | null;
  /** The fuel and driving detectors on every recorded sample; events to SQLite (fuel/live.ts). */
  readonly detectors: LiveDetectors;
  readonly recorder: SampleRecorder;
  /** Trouble codes, battery and ignition from the OBD link, as events. */
  readonly diagnostics: DiagnosticsWatch;
  /** Live PID streams asked by the cloud (remote diagnostics). */
  readonly streams: PidStreams;

  constructor(
    readonly config: AgentConfig,
    private readonly log: Logger,
  ) {
    this.db = new AgentDb(config.dbPath, {
      diskBudgetBytes: config.diskBudgetBytes,
      metricBufferLimit: config.metricBufferLimit,
    });
    this.models = AgentModels.create(config, log.child({ ns: 'models' }));
    // Sample and event times: GPS time, never backwards within this run.
    const clock = new SampleClock();
    this.link = new BrokerLink(this.db, brokerLinkOptions(config), log.child({ ns: 'sync' }), {
      models: this.models?.service,
      commandKey: commandKeyOf(config),
      health: () =>
        agentHealth(this.db, clock, {
          modelVersion: () => this.models?.activeModelVersion() ?? null,
          vin: () => this.obd.vin?.vin ?? null,
        }),
    });
    this.detectors = new LiveDetectors(
      this.db.events,
      {
        tankLitres: config.tankLitres ?? 60,
        ...(config.speedLimitKmh ? { speedLimitKmh: config.speedLimitKmh } : {}),
      },
      log.child({ ns: 'detectors' }),
      this.models ? [this.models.detector()] : [],
      () => this.models?.activeModelVersion() ?? null,
    );
    this.diagnostics = new DiagnosticsWatch(
      this.db.events,
      this.db.troubleCodes,
      () => clock.now(),
      () => this.recorder.lastPosition,
      log.child({ ns: 'diagnostics' }),
    );
    this.obd = new ObdPoller(
      () => openByteStream(config.obdPort, config.obdBaud),
      log.child({ ns: 'obd' }),
      undefined,
      config.obdRetryMs,
      {
        diagnostics: {
          dtcPeriodMs: config.dtcPeriodSec * 1000,
          monitorPeriodMs: config.monitorPeriodSec * 1000,
          onReading: (r) => this.diagnostics.observe(r),
        },
        // A newly read VIN goes out at once, not with the next minute's health report.
        onVin: () => this.link.reportHealth(),
      },
    );
    this.recorder = new SampleRecorder(
      clock,
      this.obd,
      this.db.samples,
      this.detectors,
      log.child({ ns: 'recorder' }),
    );
    this.gps = createGpsSource(config, (fix) => this.recorder.record(fix), log.child({ ns: 'gps' }));
    this.streams = new PidStreams(
      this.obd,
      (frame) => this.link.publish('commands-stream', JSON.stringify(frame)),
      log.child({ ns: 'pid-stream' }),
    );
    // `fetchLogs` answers from the newest 64 KiB of this process's log lines.
    keepRecentLogs(65_536);
    registerRemoteCommands({
      obd: this.obd,
      db: this.db,
      link: this.link,
      streams: this.streams,
      models: this.models?.service ?? null,
    });
  }

  /** Outputs first, inputs last (telegraf's order), so nothing is read before it can be kept. */
  start(): void {
    // The stored model's load is queued before the link can deliver a new one.
    this.models
      ?.start()
      .catch((err: unknown) =>
        this.log.error({ err: (err as Error).message }, 'engine models did not start'),
      );
    this.link.start();
    void this.obd.run();
    void this.gps.run();
  }

  /** Inputs stop first, then one more flush, then the link, then the database closes. */
  async stop(): Promise<void> {
    await this.gps.stop();
    this.streams.stopAll();
    await this.obd.stop();
    await this.link.telemetry.flush();
    // Whatever is unacknowledged stays in SQLite and goes at the next start.
    await this.link.stop();
    this.models?.stop();
    this.detectors.stop();
    this.db.close();
  }
}

/** The cloud's command key, or null (only `ping` then); a bad file stops the start, loudly. */
function commandKeyOf(config: AgentConfig): KeyObject | null {
  if (!config.commandPublicKeyFile) return null;
  const read = readEd25519Key(config.commandPublicKeyFile, 'public');
  if (!read.ok) throw new AgentError(AgentErrorCode.CommandKeyInvalid, `command key: ${read.reason}`);
  return read.key;
}
