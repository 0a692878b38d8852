import { ADAPTER_KINDS, type AdapterKind } from '../elm327/emulator.ts';
import { ELM_ERROR_ANSWERS, type ElmErrorAnswer } from '../elm327/faults.ts';
import { VEHICLE_PROTOCOLS, type VehicleProtocol } from '../elm327/protocols.ts';
import { SimError, SimErrorCode } from '../errors.ts';
import { type BatteryParams, DEFAULT_BATTERY } from '../vehicle/battery.ts';
import { normaliseDtc } from '../vehicle/diagnostics.ts';
import { SENDER_MODELS, type SenderModelName } from '../vehicle/fuel-sender.ts';
import { SPEED_PROFILES, type SpeedProfile } from '../vehicle/model.ts';
import type { MonitorParams } from '../vehicle/monitors.ts';
import type { TankShape } from '../vehicle/tank.ts';

/**
 * The scenario file format (JSON). Times are seconds or duration strings ("90s", "15m", "2h",
 * "1h30m"); any number or duration may instead be a range [min, max], drawn uniformly per
 * occurrence from the run's seed, so one file gives a different but replayable day per seed.
 *
 * {
 *   "name": "theft-at-depot",
 *   "description": "...",
 *   "vehicle":    { "route": "...", "tankLitres": 80, "tankShape": "cylinder" | {"table": [[0,0],...,[100,80]]},
 *                   "initialFuelPct": [40, 80], "speedProfile": "normal", "sender": "real", "protocol": "can",
 *                   "adapter": "elm327", "dtcs": ["P0420"],
 *                   "battery": { "crankV": 10.4, "crankFadeVPerDay": 0.2, "crankS": 2 },
 *                   "monitors": { "misfireCylinder": 2, "misfirePct": 3 } },
 *   "thresholds": { "harshBrakeG": 0.35, "harshAccelG": 0.3, "speedingMarginKmh": 10,
 *                   "speedingMinS": 15, "longIdleS": 300 },
 *   "schedule":   { "tripS": ["20m", "50m"], "parkS": ["5m", "30m"], "workHoursUtc": [7, 19],
 *                   "refuelBelowPct": 15, "refuelToPct": [85, 100] },
 *   "emptyTank":  { "action": "rescue", "afterS": "30m", "litres": 10 },
 *   "faults":     { "NO DATA": 0.002, "CAN ERROR": 0.0005 },
 *   "events":     [ { "type": "fuel_theft", "at": "40m", "every": "6h", "volumeL": [15, 40],
 *                     "durationS": ["5m", "15m"] }, ... ]
 * }
 *
 * Event types and their parameters (all optional but the ones marked *):
 *   park          durationS*, gradePct            pull over, ignition off, wait, drive on
 *   idle          durationS*, gradePct            pull over, engine running, wait, drive on
 *   fuel_theft    volumeL*, durationS*, delayS,   drained while parked, ignition off (parks on
 *                 parkS, gradePct                 its own if the vehicle is driving)
 *   refuel        volumeL | toPct*, durationS,    pumped in while parked, ignition off
 *                 parkS, gradePct
 *   leak          rateLph*, durationS*            a slow loss, driving or not
 *   harsh_brake   g*, minSpeedKmh                 an emergency stop from >= minSpeedKmh (30)
 *   harsh_accel   g*, durationS                   a hard launch from a standstill (3-5 s)
 *   speeding      overKmh*, durationS*            cruise at the limit + overKmh
 *   dtc           code*, pendingS                 pending (07) for pendingS, then stored, MIL on
 *   unplug        durationS*                      the adapter is pulled out, then put back
 *   gps_loss      durationS*                      no fix (RMC V, GGA quality 0)
 *   obd_error     answer*, count                  the next `count` OBD requests get `answer`
 *   power_glitch                                  garbage bytes, then the adapter's banner
 *   speed_profile profile*                        calm | normal | aggressive from then on
 * gradePct: the slope the vehicle pulls over onto (a driveway, a ramp), %, positive nose up;
 * default the road's own grade. Only the real fuel sender feels it.
 * Common: at* (from the start), every (repeat period), times (max occurrences), maxWaitS (how
 * long a driving event may wait for its moment, default 1 h).
 */
export type NumberSpec = number | string | readonly [number | string, number | string];

export const EVENT_TYPES = [
  'park',
  'idle',
  'fuel_theft',
  'refuel',
  'leak',
  'harsh_brake',
  'harsh_accel',
  'speeding',
  'dtc',
  'unplug',
  'gps_loss',
  'obd_error',
  'power_glitch',
  'speed_profile',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface ScenarioEventSpec {
  type: EventType;
  at: NumberSpec;
  every?: NumberSpec;
  times?: number;
  maxWaitS?: NumberSpec;
  durationS?: NumberSpec;
  delayS?: NumberSpec;
  parkS?: NumberSpec;
  volumeL?: NumberSpec;
  toPct?: NumberSpec;
  rateLph?: NumberSpec;
  g?: NumberSpec;
  minSpeedKmh?: NumberSpec;
  overKmh?: NumberSpec;
  pendingS?: NumberSpec;
  count?: NumberSpec;
  /** Signed (nose down is negative), so not a NumberSpec: a number or [min, max]. */
  gradePct?: number | readonly [number, number];
  code?: string;
  answer?: ElmErrorAnswer;
  profile?: SpeedProfile;
}

/** Steepest slope a scenario may park on, % (a steep driveway; 30 % is a very steep street). */
const MAX_GRADE_PCT = 30;

export interface Thresholds {
  /** Deceleration labelled harsh_brake, g; default 0.35. */
  harshBrakeG: number;
  /** Acceleration labelled harsh_accel, g; default 0.3. */
  harshAccelG: number;
  /** Speed over the posted limit labelled speeding, km/h; default 10. */
  speedingMarginKmh: number;
  /** ...for at least this long, s; default 15. */
  speedingMinS: number;
  /** Engine running at a standstill for at least this long is long_idle, s; default 300. */
  longIdleS: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  harshBrakeG: 0.35,
  harshAccelG: 0.3,
  speedingMarginKmh: 10,
  speedingMinS: 15,
  longIdleS: 300,
};

export interface ScenarioSchedule {
  /** Driving time between parks. */
  tripS: NumberSpec;
  /** Parked time (ignition off). */
  parkS: NumberSpec;
  /** [start, end) UTC hours of the working day; outside them the vehicle stays parked. */
  workHoursUtc?: readonly [number, number];
  /** Go refuelling once the true level drops below this % of the tank. */
  refuelBelowPct?: number;
  /** ...filling up to this % (default [85, 100]). */
  refuelToPct?: NumberSpec;
}

export interface EmptyTankPolicy {
  /** rescue: after `afterS` stranded, someone brings `litres` and the engine restarts. */
  action: 'rescue' | 'strand';
  afterS: NumberSpec;
  litres: NumberSpec;
}

export const DEFAULT_EMPTY_TANK: EmptyTankPolicy = { action: 'rescue', afterS: '30m', litres: 10 };

export interface ScenarioVehicle {
  route?: string;
  tankLitres?: number;
  tankShape?: TankShape;
  initialFuelPct?: NumberSpec;
  speedProfile?: SpeedProfile;
  sender?: SenderModelName;
  protocol?: VehicleProtocol;
  adapter?: AdapterKind;
  dtcs?: string[];
  /** An ageing 12 V battery with a cranking dip (vehicle/battery.ts for each field). */
  battery?: Partial<BatteryParams>;
  /** Service 06 results: a misfiring cylinder, the catalyst (vehicle/monitors.ts). */
  monitors?: Partial<MonitorParams>;
}

export interface ScenarioDefinition {
  name: string;
  description?: string;
  vehicle?: ScenarioVehicle;
  thresholds?: Partial<Thresholds>;
  schedule?: ScenarioSchedule;
  emptyTank?: EmptyTankPolicy;
  faults?: Partial<Record<ElmErrorAnswer, number>>;
  events: ScenarioEventSpec[];
}

/** "90", 90, "90s", "15m", "2h", "1h30m", "1.5h" -> seconds. */
export function parseDuration(value: number | string, where = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) fail(`${where}: expected a duration >= 0, got ${value}`);
    return value;
  }
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)(h|m|s)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== text.length) {
    fail(`${where}: "${value}" is not a duration (like 90, "90s", "15m", "2h", "1h30m")`);
  }
  return total;
}

function fail(message: string): never {
  throw new SimError(SimErrorCode.InvalidScenario, message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkNumberSpec(v: unknown, where: string): NumberSpec {
  const one = (x: unknown): number => {
    if (typeof x !== 'number' && typeof x !== 'string') fail(`${where}: expected a number or duration`);
    return parseDuration(x, where);
  };
  if (Array.isArray(v)) {
    if (v.length !== 2) fail(`${where}: a range is [min, max]`);
    if (one(v[0]) > one(v[1])) fail(`${where}: range [min, max] has min > max`);
    return v as unknown as NumberSpec;
  }
  one(v);
  return v as NumberSpec;
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail(`${where}: unknown field "${key}" (known: ${allowed.join(', ')})`);
  }
}

const REQUIRED: Record<EventType, readonly (keyof ScenarioEventSpec)[]> = {
  park: ['durationS'],
  idle: ['durationS'],
  fuel_theft: ['volumeL', 'durationS'],
  refuel: [],
  leak: ['rateLph', 'durationS'],
  harsh_brake: ['g'],
  harsh_accel: ['g'],
  speeding: ['overKmh', 'durationS'],
  dtc: ['code'],
  unplug: ['durationS'],
  gps_loss: ['durationS'],
  obd_error: ['answer'],
  power_glitch: [],
  speed_profile: ['profile'],
};

const NUMBER_FIELDS = [
  'at',
  'every',
  'maxWaitS',
  'durationS',
  'delayS',
  'parkS',
  'volumeL',
  'toPct',
  'rateLph',
  'g',
  'minSpeedKmh',
  'overKmh',
  'pendingS',
  'count',
] as const;

function checkEvent(raw: unknown, i: number): ScenarioEventSpec {
  const where = `events[${i}]`;
  if (!isRecord(raw)) fail(`${where}: expected an object`);
  const type = raw.type;
  if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
    fail(`${where}: "type" must be one of ${EVENT_TYPES.join(', ')}`);
  }
  checkKeys(raw, ['type', 'times', 'code', 'answer', 'profile', 'gradePct', ...NUMBER_FIELDS], where);
  if (raw.at === undefined) fail(`${where} (${type}): "at" is required`);
  for (const field of REQUIRED[type as EventType]) {
    if (raw[field] === undefined) fail(`${where} (${type}): "${field}" is required`);
  }
  if (type === 'refuel' && raw.volumeL === undefined && raw.toPct === undefined) {
    fail(`${where} (refuel): give "volumeL" or "toPct"`);
  }
  for (const field of NUMBER_FIELDS) {
    if (raw[field] !== undefined) checkNumberSpec(raw[field], `${where}.${field}`);
  }
  if (raw.gradePct !== undefined) {
    const g = raw.gradePct;
    const grades = Array.isArray(g) ? g : [g];
    const inRange = (x: unknown) => typeof x === 'number' && x >= -MAX_GRADE_PCT && x <= MAX_GRADE_PCT;
    if (
      !(grades.length === (Array.isArray(g) ? 2 : 1) && grades.every(inRange)) ||
      grades[0] > grades[grades.length - 1]
    ) {
      fail(
        `${where}.gradePct: a grade in [-${MAX_GRADE_PCT}...${MAX_GRADE_PCT}] % or a range [min, max] of them`,
      );
    }
    if (!['park', 'idle', 'fuel_theft', 'refuel'].includes(type))
      fail(`${where}.gradePct: only for park, idle, fuel_theft, refuel`);
  }
  if (raw.times !== undefined && !(Number.isInteger(raw.times) && (raw.times as number) >= 1)) {
    fail(`${where}.times: expected an integer >= 1`);
  }
  if (raw.code !== undefined) {
    if (typeof raw.code !== 'string') fail(`${where}.code: expected a DTC like "P0133"`);
    try {
      normaliseDtc(raw.code);
    } catch (err) {
      fail(`${where}.code: ${(err as Error).message}`);
    }
  }
  if (raw.answer !== undefined && !(ELM_ERROR_ANSWERS as readonly unknown[]).includes(raw.answer)) {
    fail(`${where}.answer: one of ${ELM_ERROR_ANSWERS.map((a) => JSON.stringify(a)).join(', ')}`);
  }
  if (raw.profile !== undefined && !(SPEED_PROFILES as readonly unknown[]).includes(raw.profile)) {
    fail(`${where}.profile: one of ${SPEED_PROFILES.join(', ')}`);
  }
  return raw as unknown as ScenarioEventSpec;
}

/** [min, max] per field of the battery section; see vehicle/battery.ts for what each means. */
const BATTERY_RANGES: Record<keyof BatteryParams, [number, number]> = {
  restingV: [10, 13.5],
  crankV: [6, 12],
  crankFadeVPerDay: [0, 10],
  restingFadeVPerDay: [0, 5],
  crankFadeVPerStart: [0, 1],
  crankS: [1, 30],
};

function checkBattery(raw: unknown): void {
  if (!isRecord(raw)) fail('vehicle.battery: expected an object');
  checkKeys(raw, Object.keys(DEFAULT_BATTERY), 'vehicle.battery');
  for (const [key, [min, max]] of Object.entries(BATTERY_RANGES)) {
    const v = raw[key];
    if (v !== undefined && !(typeof v === 'number' && v >= min && v <= max)) {
      fail(`vehicle.battery.${key}: expected a number in [${min}...${max}]`);
    }
  }
}

function checkMonitors(raw: unknown): void {
  if (!isRecord(raw)) fail('vehicle.monitors: expected an object');
  checkKeys(raw, ['misfireCylinder', 'misfirePct', 'misfireLimit', 'catalystValue'], 'vehicle.monitors');
  const ranges: Record<string, [number, number]> = {
    misfireCylinder: [1, 4],
    misfirePct: [0, 100],
    misfireLimit: [1, 65535],
    catalystValue: [0, 65535],
  };
  for (const [key, [min, max]] of Object.entries(ranges)) {
    const v = raw[key];
    if (v !== undefined && !(typeof v === 'number' && v >= min && v <= max)) {
      fail(`vehicle.monitors.${key}: expected a number in [${min}...${max}]`);
    }
  }
  if (raw.misfireCylinder !== undefined && !Number.isInteger(raw.misfireCylinder)) {
    fail('vehicle.monitors.misfireCylinder: expected a cylinder number 1-4');
  }
}

function checkVehicle(raw: unknown): ScenarioVehicle {
  if (!isRecord(raw)) fail('vehicle: expected an object');
  checkKeys(
    raw,
    [
      'route',
      'tankLitres',
      'tankShape',
      'initialFuelPct',
      'speedProfile',
      'sender',
      'protocol',
      'adapter',
      'dtcs',
      'battery',
      'monitors',
    ],
    'vehicle',
  );
  if (raw.battery !== undefined) checkBattery(raw.battery);
  if (raw.monitors !== undefined) checkMonitors(raw.monitors);
  if (raw.route !== undefined && typeof raw.route !== 'string') fail('vehicle.route: expected a route name');
  if (
    raw.tankLitres !== undefined &&
    !(typeof raw.tankLitres === 'number' && raw.tankLitres >= 1 && raw.tankLitres <= 2000)
  ) {
    fail('vehicle.tankLitres: expected a number in [1...2000]');
  }
  if (raw.tankShape !== undefined) {
    const shape = raw.tankShape;
    if (shape === 'linear' || shape === 'cylinder') raw.tankShape = { kind: shape };
    else if (isRecord(shape) && Array.isArray(shape.table)) {
      const points = shape.table.map((p, i) => {
        if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => typeof x === 'number')) {
          fail(`vehicle.tankShape.table[${i}]: expected [readingPct, litres]`);
        }
        return [p[0], p[1]] as [number, number];
      });
      raw.tankShape = { kind: 'table', points };
    } else fail('vehicle.tankShape: "linear", "cylinder" or {"table": [[readingPct, litres], ...]}');
  }
  if (raw.initialFuelPct !== undefined) checkNumberSpec(raw.initialFuelPct, 'vehicle.initialFuelPct');
  if (raw.speedProfile !== undefined && !(SPEED_PROFILES as readonly unknown[]).includes(raw.speedProfile)) {
    fail(`vehicle.speedProfile: one of ${SPEED_PROFILES.join(', ')}`);
  }
  if (raw.sender !== undefined && !(SENDER_MODELS as readonly unknown[]).includes(raw.sender)) {
    fail(`vehicle.sender: one of ${SENDER_MODELS.join(', ')}`);
  }
  if (raw.protocol !== undefined && !(VEHICLE_PROTOCOLS as readonly unknown[]).includes(raw.protocol)) {
    fail(`vehicle.protocol: one of ${VEHICLE_PROTOCOLS.join(', ')}`);
  }
  if (raw.adapter !== undefined && !(ADAPTER_KINDS as readonly unknown[]).includes(raw.adapter)) {
    fail(`vehicle.adapter: one of ${ADAPTER_KINDS.join(', ')}`);
  }
  if (raw.dtcs !== undefined) {
    if (!Array.isArray(raw.dtcs)) fail('vehicle.dtcs: expected a list like ["P0133"]');
    for (const c of raw.dtcs) {
      if (typeof c !== 'string') fail('vehicle.dtcs: expected strings');
      try {
        normaliseDtc(c);
      } catch (err) {
        fail(`vehicle.dtcs: ${(err as Error).message}`);
      }
    }
  }
  return raw as ScenarioVehicle;
}

/** Validate a parsed scenario file; throws SimError(InvalidScenario) naming the bad field. */
export function parseScenario(raw: unknown): ScenarioDefinition {
  if (!isRecord(raw)) fail('a scenario is a JSON object');
  checkKeys(
    raw,
    ['name', 'description', 'vehicle', 'thresholds', 'schedule', 'emptyTank', 'faults', 'events'],
    'scenario',
  );
  if (typeof raw.name !== 'string' || raw.name === '') fail('scenario: "name" is required');
  if (raw.description !== undefined && typeof raw.description !== 'string') fail('description: a string');
  if (raw.vehicle !== undefined) checkVehicle(raw.vehicle);
  if (raw.thresholds !== undefined) {
    if (!isRecord(raw.thresholds)) fail('thresholds: expected an object');
    checkKeys(raw.thresholds, Object.keys(DEFAULT_THRESHOLDS), 'thresholds');
    for (const [k, v] of Object.entries(raw.thresholds)) {
      if (typeof v !== 'number' || !(v > 0)) fail(`thresholds.${k}: expected a number > 0`);
    }
  }
  if (raw.schedule !== undefined) {
    const s = raw.schedule;
    if (!isRecord(s)) fail('schedule: expected an object');
    checkKeys(s, ['tripS', 'parkS', 'workHoursUtc', 'refuelBelowPct', 'refuelToPct'], 'schedule');
    if (s.tripS === undefined || s.parkS === undefined) fail('schedule: "tripS" and "parkS" are required');
    checkNumberSpec(s.tripS, 'schedule.tripS');
    checkNumberSpec(s.parkS, 'schedule.parkS');
    if (s.workHoursUtc !== undefined) {
      const w = s.workHoursUtc;
      if (
        !Array.isArray(w) ||
        w.length !== 2 ||
        !w.every((h) => Number.isInteger(h) && h >= 0 && h <= 24) ||
        w[0] >= w[1]
      ) {
        fail('schedule.workHoursUtc: [startHour, endHour] with 0 <= start < end <= 24');
      }
    }
    if (s.refuelBelowPct !== undefined && !(typeof s.refuelBelowPct === 'number' && s.refuelBelowPct < 100)) {
      fail('schedule.refuelBelowPct: a percentage < 100');
    }
    if (s.refuelToPct !== undefined) checkNumberSpec(s.refuelToPct, 'schedule.refuelToPct');
  }
  if (raw.emptyTank !== undefined) {
    const e = raw.emptyTank;
    if (!isRecord(e)) fail('emptyTank: expected an object');
    checkKeys(e, ['action', 'afterS', 'litres'], 'emptyTank');
    if (e.action !== 'rescue' && e.action !== 'strand') fail('emptyTank.action: "rescue" or "strand"');
    raw.emptyTank = { ...DEFAULT_EMPTY_TANK, ...e };
    checkNumberSpec((raw.emptyTank as EmptyTankPolicy).afterS, 'emptyTank.afterS');
    checkNumberSpec((raw.emptyTank as EmptyTankPolicy).litres, 'emptyTank.litres');
  }
  if (raw.faults !== undefined) {
    if (!isRecord(raw.faults)) fail('faults: expected {"ANSWER": probability}');
    checkKeys(raw.faults, ELM_ERROR_ANSWERS, 'faults');
    let sum = 0;
    for (const [k, v] of Object.entries(raw.faults)) {
      if (typeof v !== 'number' || v < 0 || v > 1) fail(`faults["${k}"]: a probability in [0...1]`);
      sum += v;
    }
    if (sum > 1) fail(`faults: probabilities add up to ${sum} > 1`);
  }
  if (!Array.isArray(raw.events)) fail('scenario: "events" must be a list (may be empty)');
  raw.events.forEach((e, i) => {
    checkEvent(e, i);
  });
  return raw as unknown as ScenarioDefinition;
}
