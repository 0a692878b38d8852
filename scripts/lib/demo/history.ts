/**
 * A vehicle's past week, played in accelerated, deterministic time into its agent's SQLite store,
 * so the real `fleet-agent` started on that store backfills it as a vehicle that was offline for
 * a week does:
 *
 *   firmware-sim ScenarioRunner.advance() per simulated second (vehicle model, scenario, labels)
 *        | what the agent would have read: OBD while the ECU answers, GPS while there is a fix
 *        v
 *   the agent's recorder path: SampleOutbox.append  ->  LiveDetectors (detectors/pipeline.ts)
 *                              ignition + trouble codes -> DiagnosticsWatch        -> EventOutbox
 *
 * No timers, no ports, no MQTT: the same store, detectors and diagnostics code the running agent
 * uses, driven by the simulated clock. The same seed and start give the same store, byte for byte
 * in content (event ids start at migration 4's random point, as on a vehicle).
 *
 * Sampling: one sample every 2 s while the ignition is on and for a minute after it goes off (a
 * GPS receiver set to 0.5 Hz); parked, one a minute (an agent on a Pi that powers its GPS down
 * between wake-ups). That keeps a week at tens of thousands of rows per vehicle, which the
 * embedded database ingests in seconds: the fuel chart reads minute rollups, and parked samples
 * carry a position only (the ECU is silent, so no fuel reading exists to store).
 */

import { DiagnosticsWatch } from '../../../edge-agent/src/diagnostics/diagnostics-watch.ts';
import { LiveDetectors } from '../../../edge-agent/src/fuel/live.ts';
import { describeDtc, isGenericDtc } from '../../../edge-agent/src/obd/dtc-descriptions.ts';
import type { TroubleCode } from '../../../edge-agent/src/obd/services/dtc.ts';
import { AgentDb } from '../../../edge-agent/src/store/agent-db.ts';
import type { ScenarioDefinition } from '../../../firmware-sim/src/scenarios/format.ts';
import type { Label } from '../../../firmware-sim/src/scenarios/labels.ts';
import { ScenarioRunner } from '../../../firmware-sim/src/scenarios/runner.ts';
import { buildVehicle } from '../../../firmware-sim/src/vehicle/config.ts';
import type { TankShape } from '../../../firmware-sim/src/vehicle/tank.ts';
import type { VehicleEvent } from '../../../shared/src/index.ts';
import { createLogger } from '../../../shared/src/log.ts';

export interface HistoryVehicle {
  id: string;
  seed: number;
  scenario: ScenarioDefinition;
  route: string;
  tankLitres: number;
  tankShape: TankShape;
  initialFuelPct: number;
  /** The driving rule the agent is configured with (speeding events). */
  speedLimitKmh?: number;
}

export interface HistoryOptions {
  vehicle: HistoryVehicle;
  /** Epoch ms of the first simulated second (rounded down to a whole second). */
  fromMs: number;
  /** Epoch ms the history ends (exclusive). */
  toMs: number;
  /** The agent's database file (created; must not hold another run's rows). */
  agentDb: string;
  /** The agent's detectors use this tank calibration, [sender %, litres] (the register's table). */
  calibration: [number, number][];
  /** [1...3] s between two samples while the ignition is on, default 2 (the GPS receiver's rate). */
  drivingEveryS?: number;
  /** [1...3600] s between two parked samples, default 60. */
  parkedEveryS?: number;
}

export interface HistoryResult {
  samples: number;
  events: number;
  eventsByType: Record<string, number>;
  /** What really happened (firmware-sim ground truth): refuels, thefts, trouble codes, ... */
  labels: Label[];
  /** Ignition-on stretches [from, to) epoch ms (the tank was being read). */
  drives: [number, number][];
  /** The vehicle at the end: the live simulator continues from its fuel level. */
  final: { ts: number; fuelPct: number; lat: number; lon: number };
}

/** Samples kept for a minute after the ignition goes off (the agent shuts down after it). */
const RUN_ON_S = 60;
/** The agent reads the trouble codes every 5 min while the engine runs (obd-poller.ts default). */
const DTC_PERIOD_S = 300;
/** Seconds per SQLite transaction: a simulated hour is a few thousand samples. */
const COMMIT_EVERY_S = 3600;

export function playHistory(options: HistoryOptions): HistoryResult {
  const v = options.vehicle;
  const drivingEveryS = options.drivingEveryS ?? 2;
  const parkedEveryS = options.parkedEveryS ?? 60;
  // Over 3 s apart, the detectors' driving episodes (speeding, harsh) break at every sample.
  if (!(Number.isInteger(drivingEveryS) && drivingEveryS >= 1 && drivingEveryS <= 3))
    throw new RangeError(`drivingEveryS must be 1, 2 or 3: ${drivingEveryS}`);
  if (!(Number.isInteger(parkedEveryS) && parkedEveryS >= 1 && parkedEveryS <= 3600))
    throw new RangeError(`parkedEveryS must be in [1...3600]: ${parkedEveryS}`);
  const startMs = Math.floor(options.fromMs / 1000) * 1000;
  const totalS = Math.floor((options.toMs - startMs) / 1000);
  if (!(totalS >= 1)) throw new RangeError('the history must last at least a second');

  // Library code logs; a week of history would print every event it detects.
  const log = createLogger('demo-history', { vehicle: v.id }).child({}, { level: 'warn' });
  const built = buildVehicle({
    id: v.id,
    seed: v.seed,
    startTimeMs: startMs,
    scenario: v.scenario,
    route: v.route,
    tankLitres: v.tankLitres,
    tankShape: v.tankShape,
    initialFuelPct: v.initialFuelPct,
  });
  const labels: Label[] = [];
  const runner = new ScenarioRunner({
    model: built.model,
    scenario: built.scenario,
    seed: v.seed,
    vehicleId: v.id,
    diagnostics: built.diagnostics,
    onLabel: (label) => labels.push(label),
    logger: log,
  });

  // The disk budget is checked once at the end, not every 256 appends of the import.
  const db = new AgentDb(options.agentDb, { budgetCheckEvery: 100_000 });
  const eventsByType: Record<string, number> = {};
  const count = (events: readonly Pick<VehicleEvent, 'type'>[]) => {
    for (const e of events) eventsByType[e.type] = (eventsByType[e.type] ?? 0) + 1;
  };
  const outbox = {
    record: (e: Parameters<typeof db.events.record>[0]) => {
      count([e]);
      return db.events.record(e);
    },
  };
  const detectors = new LiveDetectors(
    db.events,
    {
      tankLitres: v.tankLitres,
      calibration: options.calibration,
      ...(v.speedLimitKmh ? { speedLimitKmh: v.speedLimitKmh } : {}),
    },
    log,
  );
  let nowMs = startMs;
  let position: { lat: number; lon: number } | null = null;
  const diagnostics = new DiagnosticsWatch(
    outbox,
    db.troubleCodes,
    () => nowMs,
    () => position,
    log,
  );
  const codes = (kind: 'stored' | 'pending', list: readonly string[]): TroubleCode[] =>
    list.map((code) => ({
      code,
      kind,
      ecu: '7E8',
      description: describeDtc(code),
      generic: isGenericDtc(code),
    }));

  let samples = 0;
  const drives: [number, number][] = [];
  let ignitionWas = false;
  let offForS = Number.POSITIVE_INFINITY;
  let onForS = 0;
  const second = () => {
    const s = runner.state;
    nowMs = s.simTimeMs;
    const obd = s.ignition && runner.adapterPlugged;
    const fix = runner.gpsFix;
    if (obd !== ignitionWas) {
      diagnostics.observe({ kind: 'ignition', ts: nowMs, on: obd });
      if (obd) drives.push([nowMs, nowMs]);
      else drives[drives.length - 1]![1] = nowMs;
      ignitionWas = obd;
      offForS = 0;
      onForS = 0;
    }
    if (obd) {
      // At each start and every DTC_PERIOD_S after it, as the poller reads services 03 and 07.
      if (onForS % DTC_PERIOD_S === 0) {
        diagnostics.observe({
          kind: 'codes',
          ts: nowMs,
          stored: codes('stored', runner.diagnostics.stored),
          pending: codes('pending', runner.diagnostics.pending),
          milOn: runner.diagnostics.milOn,
        });
      }
      onForS++;
    } else offForS++;
    const every = obd || offForS <= RUN_ON_S ? drivingEveryS : parkedEveryS;
    // The first second after the ignition changed is always kept: the detectors see the change.
    if ((nowMs / 1000) % every !== 0 && onForS !== 1 && offForS !== 1) return;
    const sample = {
      ts: nowMs,
      lat: fix ? s.lat : null,
      lon: fix ? s.lon : null,
      // As the recorder: the ECU's speed, else the GPS's.
      speedKmh: obd ? Math.round(s.speedKmh) : fix ? s.speedKmh : null,
      rpm: obd ? s.rpm : null,
      fuelLevelPct: obd ? s.fuelLevelPct : null,
      coolantC: obd ? Math.round(s.coolantC) : null,
    };
    db.samples.append(sample);
    samples++;
    if (fix) position = { lat: s.lat, lon: s.lon };
    count(
      detectors.push({
        ...sample,
        fuelRateLph: obd ? Math.round(s.fuelRateLph * 20) / 20 : null,
        mafGps: null,
        ignition: obd,
      }),
    );
  };

  try {
    runner.begin();
    second();
    for (let t = 1; t < totalS; ) {
      const end = Math.min(totalS, t + COMMIT_EVERY_S);
      db.batch(() => {
        for (; t < end; t++) {
          runner.advance();
          second();
        }
      });
    }
    runner.finish();
    if (ignitionWas) drives[drives.length - 1]![1] = nowMs;
    db.batch(() => count(detectors.stop()));
    db.enforceBudget();
  } finally {
    db.close();
  }
  const last = runner.state;
  return {
    samples,
    events: Object.values(eventsByType).reduce((a, b) => a + b, 0),
    eventsByType,
    labels,
    drives,
    final: {
      ts: last.simTimeMs,
      fuelPct: (100 * last.fuelLitresTrue) / last.tankLitres,
      lat: last.lat,
      lon: last.lon,
    },
  };
}
