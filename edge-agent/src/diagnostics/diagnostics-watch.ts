/**
 *   ObdPoller ──DiagnosticReading──> DiagnosticsWatch ──┬─ dtc           (a code new since the last read,
 *   (codes + freeze frame + 21/31,      │               │                 its freeze frame, PIDs 21/31)
 *    voltage, crank reads, monitors,    │               ├─ ignition_on / ignition_off
 *    ignition)                          │               ├─ battery       (at each start; low while parked)
 *                                       │               └─ monitors      (service 06: misfire, catalyst)
 *                 TroubleCodeMemory <───┘                     │
 *                 (SQLite: codes as last read)                └──> EventOutbox ──> events lane
 *
 * The vehicle's health as events the cloud alerts on, with no technician command: a code that
 * appears (stored: confirmed, the MIL's; pending: seen once) is reported once, with its SAE J2012
 * description; a restart does not report it again (the memory is in SQLite); a code that clears
 * and comes back is new again.
 *
 * Battery: an ELM327 reads the socket's voltage (ATRV), not the battery's state, and only every
 * few seconds, so a cranking dip of tens of milliseconds is caught only when a read falls in it;
 * `lowestV` is the lowest read in the minute before the engine answered, a coarse figure. What
 * is reliable: the resting voltage before a start (12.6 V full, 12.2 V half, < 12.0 V flat for a
 * lead-acid battery) and the charging voltage after it (13.5-14.7 V with a working alternator).
 * The poller therefore also reads ATRV back to back for a few seconds as the ECU starts answering
 * (`crank`): when that burst falls in the crank, `crankV` is the start's dip, the figure whose
 * trend over the starts tells a weakening battery (the cloud fits it: alerts/battery-trend.ts).
 */
import type { Logger } from '@fleet/shared/log';
import type { DetectedEvent } from '../detectors/detector.ts';
import { round } from '../detectors/event.ts';
import type { DiagnosticReading } from '../obd/obd-poller.ts';
import type { TroubleCode } from '../obd/services/dtc.ts';
import type { FreezeFrame } from '../obd/services/freeze-frame.ts';
import {
  CATALYST_MIDS,
  MISFIRE_MID_FIRST,
  MISFIRE_MID_LAST,
  type MonitorTest,
  TID_MISFIRE_CYCLE,
  TID_MISFIRE_EWMA,
} from '../obd/services/monitor-results.ts';
import type { EventOutbox } from '../store/event-outbox.ts';
import type { TroubleCodeMemory } from '../store/trouble-codes.ts';

export interface DiagnosticsWatchOptions {
  /** [9...14] V, default 12.2: parked below this for `lowRestingForMs` is a low battery (about half charge). */
  lowRestingV?: number;
  /** [0...86400000] ms, default 600,000: how long the resting voltage must stay low (not a load's dip). */
  lowRestingForMs?: number;
  /** [12...15] V, default 13.2: running below this after a start: the alternator does not charge. */
  lowChargingV?: number;
  /** [6...12] V, default 9.6: a start that pulled the socket below this (the load-test limit). */
  weakCrankV?: number;
  /** Who drives, for the events (null: unknown). */
  driverId?: string | null;
}

type Resolved = Required<DiagnosticsWatchOptions>;

/** How far back a start looks for the resting and lowest voltage. */
const START_WINDOW_MS = 60_000;

export class DiagnosticsWatch {
  private readonly opts: Resolved;
  /** Engine-off voltage reads of the last minute (ts, volts). */
  private readonly offReads: { ts: number; volts: number }[] = [];
  private lastOffV: number | null = null;
  /** An engine start waiting for its first charging read. */
  private start: {
    restingV: number | null;
    lowestV: number | null;
    crank: { minV: number; samples: number; late: boolean } | null;
  } | null = null;
  private onSince: number | null = null;
  private lowSince: number | null = null;
  private lowReported = false;

  constructor(
    private readonly events: Pick<EventOutbox, 'record'>,
    private readonly codes: TroubleCodeMemory,
    /** Event time: the agent's clock (GPS-corrected), not the reading's system time. */
    private readonly now: () => number,
    /** Where the vehicle is, for the events (null: no fix yet). */
    private readonly position: () => { lat: number; lon: number } | null,
    private readonly log: Logger,
    options: DiagnosticsWatchOptions = {},
  ) {
    this.opts = {
      lowRestingV: options.lowRestingV ?? 12.2,
      lowRestingForMs: options.lowRestingForMs ?? 600_000,
      lowChargingV: options.lowChargingV ?? 13.2,
      weakCrankV: options.weakCrankV ?? 9.6,
      driverId: options.driverId ?? null,
    };
  }

  observe(r: DiagnosticReading): void {
    switch (r.kind) {
      case 'codes':
        this.codesRead(r.stored, r.pending, r.milOn, r.freezeFrame ?? null, r.distances ?? null);
        return;
      case 'crank':
        if (this.start) this.start.crank = { minV: r.minV, samples: r.samples, late: r.late };
        return;
      case 'monitors':
        this.monitorsRead(r.tests);
        return;
      case 'ignition':
        if (r.on) this.ignitionOn(r.ts);
        else this.ignitionOff(r.ts);
        return;
      case 'voltage':
        if (r.engine === 'off') this.restingRead(r.ts, r.volts);
        else this.chargingRead(r.volts);
    }
  }

  private codesRead(
    stored: readonly TroubleCode[],
    pending: readonly TroubleCode[],
    milOn: boolean | null,
    freezeFrame: FreezeFrame | null,
    distances: { milOnKm: number | null; sinceClearKm: number | null } | null,
  ) {
    const at = this.now();
    for (const [kind, read] of [
      ['stored', stored],
      ['pending', pending],
    ] as const) {
      const byCode = new Map(read.map((c) => [c.code, c]));
      for (const { code } of this.codes.replace(kind, read, at)) {
        const c = byCode.get(code)!;
        this.emit('dtc', at, {
          code,
          description: c.description,
          kind,
          ecu: c.ecu,
          generic: c.generic,
          milOn,
          // The frame belongs to the code that stored it (PID 02), never to the others.
          ...(freezeFrame && freezeFrame.code === code ? { freezeFrame: freezeFrame.values } : {}),
          ...(distances
            ? { distanceMilOnKm: distances.milOnKm, distanceSinceClearKm: distances.sinceClearKm }
            : {}),
        });
        this.log.info({ code, kind, description: c.description }, 'trouble code reported');
      }
    }
  }

  private ignitionOn(ts: number) {
    const recent = this.offReads.filter((r) => ts - r.ts <= START_WINDOW_MS);
    const lowestV = recent.length > 0 ? Math.min(...recent.map((r) => r.volts)) : null;
    // The earliest read of the last minute: before the key turned (the last may be mid-crank).
    const restingV = recent[0]?.volts ?? this.lastOffV;
    this.start = { restingV, lowestV, crank: null };
    this.onSince = ts;
    this.emit('ignition_on', this.now(), { restingV: restingV === null ? null : round(restingV, 2) });
  }

  private ignitionOff(ts: number) {
    const onForS = this.onSince === null ? null : Math.round((ts - this.onSince) / 1000);
    this.onSince = null;
    this.start = null;
    this.offReads.length = 0;
    this.lastOffV = null;
    this.lowSince = null;
    this.lowReported = false;
    this.emit('ignition_off', this.now(), { onForS });
  }

  /** Parked: remember for the next start; low for long enough is reported once per stop. */
  private restingRead(ts: number, volts: number) {
    this.lastOffV = volts;
    this.offReads.push({ ts, volts });
    while (this.offReads.length > 0 && ts - this.offReads[0]!.ts > START_WINDOW_MS) this.offReads.shift();
    if (volts >= this.opts.lowRestingV) {
      this.lowSince = null;
      return;
    }
    this.lowSince ??= ts;
    if (this.lowReported || ts - this.lowSince < this.opts.lowRestingForMs) return;
    this.lowReported = true;
    this.emit('battery', this.now(), {
      phase: 'resting',
      restingV: round(volts, 2),
      thresholdV: this.opts.lowRestingV,
      lowForS: Math.round((ts - this.lowSince) / 1000),
      low: true,
      reasons: ['resting'],
    });
  }

  /** The first charging read after a start closes the start's battery report. */
  private chargingRead(volts: number) {
    const start = this.start;
    if (!start) return;
    this.start = null;
    const reasons: string[] = [];
    // The crank burst's minimum, unless it came too late to see one (first read charging).
    const crankV = start.crank && !start.crank.late ? start.crank.minV : null;
    const lows = [start.lowestV, crankV].filter((v): v is number => v !== null);
    const lowestV = lows.length > 0 ? Math.min(...lows) : null;
    if (start.restingV !== null && start.restingV < this.opts.lowRestingV) reasons.push('resting');
    if (lowestV !== null && lowestV < this.opts.weakCrankV) reasons.push('cranking');
    if (volts < this.opts.lowChargingV) reasons.push('charging');
    this.emit('battery', this.now(), {
      phase: 'start',
      restingV: start.restingV === null ? null : round(start.restingV, 2),
      lowestV: lowestV === null ? null : round(lowestV, 2),
      crankV: crankV === null ? null : round(crankV, 2),
      crankSamples: start.crank?.samples ?? 0,
      runningV: round(volts, 2),
      low: reasons.length > 0,
      reasons,
    });
  }

  /**
   * Service 06 results as one event: each misfire cylinder's counts (this cycle, the 10-cycle
   * average) against its limit, each catalyst test against its limits; `failed` lists what is
   * out of limits. The cloud trends them (misfire over its limit raises an alert).
   */
  private monitorsRead(tests: readonly MonitorTest[]) {
    const misfire = new Map<
      number,
      { cylinder: number; count: number | null; average: number | null; limit: number | null }
    >();
    const catalyst: {
      bank: number;
      tid: number;
      value: number;
      min: number;
      max: number;
      passed: boolean;
    }[] = [];
    for (const t of tests) {
      if (t.mid >= MISFIRE_MID_FIRST && t.mid <= MISFIRE_MID_LAST) {
        const cylinder = t.mid - MISFIRE_MID_FIRST + 1;
        const m = misfire.get(cylinder) ?? { cylinder, count: null, average: null, limit: null };
        if (t.tid === TID_MISFIRE_CYCLE) m.count = t.value;
        if (t.tid === TID_MISFIRE_EWMA) m.average = t.value;
        // A max of 0 means the manufacturer sets no limit there (common for misfire TIDs).
        if (t.max > 0) m.limit = t.max;
        misfire.set(cylinder, m);
      } else if (CATALYST_MIDS.includes(t.mid)) {
        const bank = t.mid - CATALYST_MIDS[0]! + 1;
        catalyst.push({ bank, tid: t.tid, value: t.value, min: t.min, max: t.max, passed: t.passed });
      }
    }
    const cylinders = [...misfire.values()].sort((a, b) => a.cylinder - b.cylinder);
    const failed = [
      ...cylinders
        .filter((c) => c.limit !== null && c.count !== null && c.count > c.limit)
        .map((c) => `misfire cylinder ${c.cylinder}`),
      ...catalyst.filter((c) => !c.passed).map((c) => `catalyst bank ${c.bank}`),
    ];
    this.emit('monitors', this.now(), { misfire: cylinders, catalyst, failed });
    if (failed.length > 0) this.log.info({ failed }, 'on-board monitors out of limits');
  }

  private emit(type: DetectedEvent['type'], atMs: number, details: Record<string, unknown>) {
    const at = Math.round(atMs); // the clock interpolates GPS time with sub-millisecond precision
    const where = this.position();
    this.events.record({
      type,
      start: at,
      end: at,
      lat: where?.lat ?? null,
      lon: where?.lon ?? null,
      driverId: this.opts.driverId,
      confidence: 1,
      modelVersion: null,
      details,
    });
  }
}
