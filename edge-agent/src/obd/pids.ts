/**
 * Service 01 PIDs as data plus small decoders: every PID of SAE J1979-DA from 00 to C4 with its
 * name, unit, data length and formula (A, B, C, ... are the data bytes after the PID number).
 *
 * - Single values decode to a number in `unit`.
 * - Multi-value PIDs (O2 sensors 14-1B / 24-2B / 34-3B, catalyst temperatures 3C-3F, maxima
 *   4F/50, the 66-A9 sensor groups) decode to named fields, their units in `fields`. A field
 *   whose sensor the ECU marks as absent (the support bits in byte A) is null.
 * - PIDs whose layout J1979-DA leaves to sub-tables this agent does not interpret (AECD timers,
 *   NOx inducement, WWH-OBD info) decode to their raw bytes as hex: still named, still split
 *   correctly in a multi-PID answer because the length is known.
 *
 * The length matters beyond decoding: a multi-PID answer (`41 0C 1A F8 0D 32`) can only be split
 * by knowing each PID's length (J1979 "Request current powertrain diagnostic data", multiple PIDs).
 */

export type PidFieldValue = number | string | boolean | null;
export type PidFields = { readonly [field: string]: PidFieldValue };
export type PidValue = number | string | PidFields;

export interface Mode01Pid {
  readonly pid: number;
  /** Stable camelCase identifier: CLI argument, JSON key. */
  readonly key: string;
  readonly name: string;
  /** Unit of a numeric value ('' for enumerations, bitmaps, raw and multi-value PIDs). */
  readonly unit: string;
  /** Data bytes after the PID number; 0 when J1979-DA does not fix it (asked alone, kept raw). */
  readonly bytes: number;
  /** Multi-value PIDs: the unit of each named field. */
  readonly fields?: Readonly<Record<string, string>>;
  decode(data: readonly number[]): PidValue;
}

// ---- formula helpers (J1979-DA scaling) -------------------------------------------------------

const at = (d: readonly number[], i: number): number => d[i] ?? 0;
const u16 = (d: readonly number[], i: number): number => 256 * at(d, i) + at(d, i + 1);
const s16 = (d: readonly number[], i: number): number => {
  const v = u16(d, i);
  return v >= 0x8000 ? v - 0x10000 : v;
};
const u32 = (d: readonly number[], i: number): number =>
  at(d, i) * 0x1000000 + at(d, i + 1) * 0x10000 + at(d, i + 2) * 0x100 + at(d, i + 3);
const bit = (byte: number, n: number): boolean => ((byte >> n) & 1) === 1;
/** 100/255 * x: percent of full scale. */
const pct = (x: number): number => (100 * x) / 255;
/** x - 40: temperature, °C. */
const temp = (x: number): number => x - 40;
/** 100/128 * x - 100: fuel trim, EGR error, % (negative = leaner / less). */
const trim = (x: number): number => (100 * x) / 128 - 100;
/** (256A + B) / 10 - 40: wide-range temperature, °C. */
const wideTemp = (d: readonly number[], i: number): number => u16(d, i) / 10 - 40;
/** Field is present when its support bit in byte A is set (J1979-DA sensor-group PIDs). */
const ifBit = (d: readonly number[], n: number, value: number): number | null =>
  bit(at(d, 0), n) ? value : null;
const hex = (d: readonly number[]): string =>
  d.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');

/** "P0133" from the two DTC bytes (SAE J2012: bits 15-14 pick P/C/B/U, then 14 bits of digits). */
export function dtcFromBytes(hi: number, lo: number): string {
  const system = 'PCBU'[(hi >> 6) & 0x03]!;
  const rest = (((hi & 0x3f) << 8) | lo).toString(16).toUpperCase().padStart(4, '0');
  return `${system}${rest}`;
}

// ---- enumerations -----------------------------------------------------------------------------

/** PID 03: fuel system status values (bit-encoded, one bit set). 0: no status (system absent). */
const FUEL_SYSTEM_STATUS: Readonly<Record<number, string>> = {
  1: 'open loop: insufficient engine temperature',
  2: 'closed loop: oxygen sensor feedback',
  4: 'open loop: engine load or deceleration fuel cut',
  8: 'open loop: system failure',
  16: 'closed loop: fault in at least one oxygen sensor feedback',
};

/** PID 12: commanded secondary air status. */
const SECONDARY_AIR_STATUS: Readonly<Record<number, string>> = {
  1: 'upstream',
  2: 'downstream of catalytic converter',
  4: 'from the outside atmosphere or off',
  8: 'pump commanded on for diagnostics',
};

/** PID 1C: OBD standards this vehicle conforms to. */
export const OBD_STANDARDS: Readonly<Record<number, string>> = {
  1: 'OBD-II (CARB)',
  2: 'OBD (EPA)',
  3: 'OBD and OBD-II',
  4: 'OBD-I',
  5: 'not OBD compliant',
  6: 'EOBD (Europe)',
  7: 'EOBD and OBD-II',
  8: 'EOBD and OBD',
  9: 'EOBD, OBD and OBD-II',
  10: 'JOBD (Japan)',
  11: 'JOBD and OBD-II',
  12: 'JOBD and EOBD',
  13: 'JOBD, EOBD and OBD-II',
  17: 'Engine Manufacturer Diagnostics (EMD)',
  18: 'Engine Manufacturer Diagnostics Enhanced (EMD+)',
  19: 'Heavy Duty OBD, child/partial (HD OBD-C)',
  20: 'Heavy Duty OBD (HD OBD)',
  21: 'World Wide Harmonized OBD (WWH OBD)',
  23: 'Heavy Duty Euro OBD stage I without NOx control (HD EOBD-I)',
  24: 'Heavy Duty Euro OBD stage I with NOx control (HD EOBD-I N)',
  25: 'Heavy Duty Euro OBD stage II without NOx control (HD EOBD-II)',
  26: 'Heavy Duty Euro OBD stage II with NOx control (HD EOBD-II N)',
  28: 'Brazil OBD phase 1 (OBDBr-1)',
  29: 'Brazil OBD phase 2 (OBDBr-2)',
  30: 'Korean OBD (KOBD)',
  31: 'India OBD I (IOBD I)',
  32: 'India OBD II (IOBD II)',
  33: 'Heavy Duty Euro OBD stage VI (HD EOBD-IV)',
};

/** PID 51: fuel type coding (J1979-DA table "Fuel Type Coding"). */
export const FUEL_TYPES: Readonly<Record<number, string>> = {
  0: 'not available',
  1: 'gasoline',
  2: 'methanol',
  3: 'ethanol',
  4: 'diesel',
  5: 'LPG',
  6: 'CNG',
  7: 'propane',
  8: 'electric',
  9: 'bifuel running gasoline',
  10: 'bifuel running methanol',
  11: 'bifuel running ethanol',
  12: 'bifuel running LPG',
  13: 'bifuel running CNG',
  14: 'bifuel running propane',
  15: 'bifuel running electricity',
  16: 'bifuel running electric and combustion engine',
  17: 'hybrid gasoline',
  18: 'hybrid ethanol',
  19: 'hybrid diesel',
  20: 'hybrid electric',
  21: 'hybrid running electric and combustion engine',
  22: 'hybrid regenerative',
  23: 'bifuel running diesel',
};

/** PID 5F: emission requirements to which the vehicle is designed. */
const EMISSION_REQUIREMENTS: Readonly<Record<number, string>> = {
  14: 'heavy duty vehicles (EURO IV) B1',
  15: 'heavy duty vehicles (EURO V) B2',
  16: 'heavy duty vehicles (EURO EEV) C',
};

const enumField = (table: Readonly<Record<number, string>>, code: number): PidFields => ({
  code,
  name: table[code] ?? (code >= 251 && table === OBD_STANDARDS ? 'not available for assignment' : 'reserved'),
});

// ---- PID 01 / 41: monitor status --------------------------------------------------------------

const SPARK_MONITORS = [
  'catalyst',
  'heatedCatalyst',
  'evapSystem',
  'secondaryAirSystem',
  'acRefrigerant',
  'oxygenSensor',
  'oxygenSensorHeater',
  'egrSystem',
] as const;
const COMPRESSION_MONITORS = [
  'nmhcCatalyst',
  'noxScrMonitor',
  null,
  'boostPressure',
  null,
  'exhaustGasSensor',
  'pmFilter',
  'egrVvtSystem',
] as const;

/**
 * Readiness: byte B bits 0-2 say misfire / fuel system / components monitors exist, bits 4-6
 * that they are not complete; bit 3 chooses spark (0) or compression (1) ignition, which names
 * the bits of C (monitor exists) and D (not complete). PID 01 adds MIL and DTC count in A.
 */
function monitorStatus(d: readonly number[], withMil: boolean): PidFields {
  const [a = 0, b = 0, c = 0, e = 0] = d;
  const state = (available: boolean, incomplete: boolean) =>
    available ? (incomplete ? 'incomplete' : 'complete') : 'not available';
  const compression = bit(b, 3);
  const out: Record<string, PidFieldValue> = {
    milOn: withMil ? bit(a, 7) : null,
    dtcCount: withMil ? a & 0x7f : null,
    ignition: compression ? 'compression' : 'spark',
    misfire: state(bit(b, 0), bit(b, 4)),
    fuelSystem: state(bit(b, 1), bit(b, 5)),
    components: state(bit(b, 2), bit(b, 6)),
  };
  (compression ? COMPRESSION_MONITORS : SPARK_MONITORS).forEach((name, i) => {
    if (name) out[name] = state(bit(c, i), bit(e, i));
  });
  return out;
}

function supportedList(base: number, d: readonly number[]): string {
  const pids: string[] = [];
  for (let i = 0; i < 32; i++) {
    if (bit(at(d, i >> 3), 7 - (i & 7)))
      pids.push((base + i + 1).toString(16).toUpperCase().padStart(2, '0'));
  }
  return pids.join(' ');
}

// ---- table builders ---------------------------------------------------------------------------

const scalar = (
  pid: number,
  key: string,
  name: string,
  unit: string,
  bytes: number,
  decode: (d: readonly number[]) => number,
): Mode01Pid => ({ pid, key, name, unit, bytes, decode });

const multi = (
  pid: number,
  key: string,
  name: string,
  bytes: number,
  fields: Record<string, string>,
  decode: (d: readonly number[]) => PidFields,
): Mode01Pid => ({ pid, key, name, unit: '', bytes, fields, decode });

const text = (
  pid: number,
  key: string,
  name: string,
  bytes: number,
  decode: (d: readonly number[]) => string,
): Mode01Pid => ({ pid, key, name, unit: '', bytes, decode });

/** Layout left to J1979-DA sub-tables: the bytes as hex. */
const raw = (pid: number, key: string, name: string, bytes: number): Mode01Pid =>
  text(pid, key, name, bytes, hex);

const supportPid = (base: number): Mode01Pid => {
  const first = (base + 1).toString(16).toUpperCase().padStart(2, '0');
  const last = (base + 0x20).toString(16).toUpperCase().padStart(2, '0');
  return text(base, `pidsSupported${first}To${last}`, `PIDs supported [${first}-${last}]`, 4, (d) =>
    supportedList(base, d),
  );
};

/** O2 sensor n of PIDs 13 (2 banks x 4 sensors): 14..1B, 24..2B, 34..3B share the numbering. */
const O2_LOCATIONS = ['B1S1', 'B1S2', 'B1S3', 'B1S4', 'B2S1', 'B2S2', 'B2S3', 'B2S4'] as const;

const o2Narrow = (i: number): Mode01Pid =>
  multi(
    0x14 + i,
    `oxygenSensor${i + 1}Voltage`,
    `Oxygen sensor ${i + 1} (${O2_LOCATIONS[i]}): voltage, short term fuel trim`,
    2,
    { voltageV: 'V', shortTermFuelTrimPct: '%' },
    (d) => ({
      voltageV: at(d, 0) / 200,
      // B = FF: this sensor is not used in the trim calculation.
      shortTermFuelTrimPct: at(d, 1) === 0xff ? null : trim(at(d, 1)),
    }),
  );

const o2WideVoltage = (i: number): Mode01Pid =>
  multi(
    0x24 + i,
    `oxygenSensor${i + 1}LambdaVoltage`,
    `Oxygen sensor ${i + 1} (${O2_LOCATIONS[i]}): equivalence ratio, voltage`,
    4,
    { equivalenceRatio: 'ratio', voltageV: 'V' },
    (d) => ({ equivalenceRatio: (2 / 65536) * u16(d, 0), voltageV: (8 / 65536) * u16(d, 2) }),
  );

const o2WideCurrent = (i: number): Mode01Pid =>
  multi(
    0x34 + i,
    `oxygenSensor${i + 1}LambdaCurrent`,
    `Oxygen sensor ${i + 1} (${O2_LOCATIONS[i]}): equivalence ratio, current`,
    4,
    { equivalenceRatio: 'ratio', currentMa: 'mA' },
    (d) => ({ equivalenceRatio: (2 / 65536) * u16(d, 0), currentMa: u16(d, 2) / 256 - 128 }),
  );

const CATALYST_LOCATIONS = ['bank 1, sensor 1', 'bank 2, sensor 1', 'bank 1, sensor 2', 'bank 2, sensor 2'];
const catalystTemp = (i: number): Mode01Pid =>
  scalar(
    0x3c + i,
    `catalystTemp${['B1S1', 'B2S1', 'B1S2', 'B2S2'][i]}`,
    `Catalyst temperature (${CATALYST_LOCATIONS[i]})`,
    '°C',
    2,
    (d) => wideTemp(d, 0),
  );

const percentPid = (pid: number, key: string, name: string): Mode01Pid =>
  scalar(pid, key, name, '%', 1, (d) => pct(at(d, 0)));
const tempPid = (pid: number, key: string, name: string): Mode01Pid =>
  scalar(pid, key, name, '°C', 1, (d) => temp(at(d, 0)));
const trimPid = (pid: number, key: string, name: string): Mode01Pid =>
  scalar(pid, key, name, '%', 1, (d) => trim(at(d, 0)));
const torquePid = (pid: number, key: string, name: string): Mode01Pid =>
  scalar(pid, key, name, '%', 1, (d) => at(d, 0) - 125);

/** Two-bank secondary O2 trims (55-58): A and B, 100/128 x - 100 each. */
const secondaryTrim = (pid: number, key: string, name: string, banks: [number, number]): Mode01Pid =>
  multi(pid, key, name, 2, { [`bank${banks[0]}Pct`]: '%', [`bank${banks[1]}Pct`]: '%' }, (d) => ({
    [`bank${banks[0]}Pct`]: trim(at(d, 0)),
    [`bank${banks[1]}Pct`]: trim(at(d, 1)),
  }));

/** A = support bits, then (256x + y) / 10 - 40 temperatures (EGT 78/79, DPF 7C). */
const wideTemps = (pid: number, key: string, name: string, names: string[]): Mode01Pid =>
  multi(pid, key, name, 1 + 2 * names.length, Object.fromEntries(names.map((n) => [n, '°C'])), (d) =>
    Object.fromEntries(names.map((n, i) => [n, ifBit(d, i, wideTemp(d, 1 + 2 * i))])),
  );

/** A = support bits, then one byte per sensor, A - 40 (67, 68, 6B, 77). */
const byteTemps = (pid: number, key: string, name: string, names: string[]): Mode01Pid =>
  multi(pid, key, name, 1 + names.length, Object.fromEntries(names.map((n) => [n, '°C'])), (d) =>
    Object.fromEntries(names.map((n, i) => [n, ifBit(d, i, temp(at(d, 1 + i)))])),
  );

/** A = support bits, then one byte per value, 100/255 x (6A, 6C, 72). */
const bytePercents = (pid: number, key: string, name: string, names: string[]): Mode01Pid =>
  multi(pid, key, name, 1 + names.length, Object.fromEntries(names.map((n) => [n, '%'])), (d) =>
    Object.fromEntries(names.map((n, i) => [n, ifBit(d, i, pct(at(d, 1 + i)))])),
  );

/** A = support bits, then 16-bit values times `scale` (6D-less groups: 6E, 73, 74, 83, 87, A1). */
const words = (
  pid: number,
  key: string,
  name: string,
  unit: string,
  names: string[],
  scale: (w: number) => number,
): Mode01Pid =>
  multi(pid, key, name, 1 + 2 * names.length, Object.fromEntries(names.map((n) => [n, unit])), (d) =>
    Object.fromEntries(names.map((n, i) => [n, ifBit(d, i, scale(u16(d, 1 + 2 * i)))])),
  );

const nteStatus = (pid: number, key: string, name: string): Mode01Pid =>
  multi(
    pid,
    key,
    name,
    1,
    { insideControlArea: '', outsideControlArea: '', insideCarveOutArea: '', deficiencyActive: '' },
    (d) => ({
      insideControlArea: bit(at(d, 0), 0),
      outsideControlArea: bit(at(d, 0), 1),
      insideCarveOutArea: bit(at(d, 0), 2),
      deficiencyActive: bit(at(d, 0), 3),
    }),
  );

// ---- the table --------------------------------------------------------------------------------

const DEFINITIONS: Mode01Pid[] = [
  supportPid(0x00),
  multi(
    0x01,
    'monitorStatus',
    'Monitor status since DTCs cleared',
    4,
    { milOn: '', dtcCount: 'count', ignition: '' },
    (d) => monitorStatus(d, true),
  ),
  text(0x02, 'freezeDtc', 'DTC that caused the freeze frame', 2, (d) =>
    at(d, 0) === 0 && at(d, 1) === 0 ? '' : dtcFromBytes(at(d, 0), at(d, 1)),
  ),
  multi(0x03, 'fuelSystemStatus', 'Fuel system status', 2, { system1: '', system2: '' }, (d) => ({
    system1: FUEL_SYSTEM_STATUS[at(d, 0)] ?? null,
    system2: FUEL_SYSTEM_STATUS[at(d, 1)] ?? null,
  })),
  percentPid(0x04, 'engineLoad', 'Calculated engine load'),
  tempPid(0x05, 'coolantTemp', 'Engine coolant temperature'),
  trimPid(0x06, 'shortTermFuelTrimBank1', 'Short term fuel trim, bank 1'),
  trimPid(0x07, 'longTermFuelTrimBank1', 'Long term fuel trim, bank 1'),
  trimPid(0x08, 'shortTermFuelTrimBank2', 'Short term fuel trim, bank 2'),
  trimPid(0x09, 'longTermFuelTrimBank2', 'Long term fuel trim, bank 2'),
  scalar(0x0a, 'fuelPressure', 'Fuel pressure (gauge)', 'kPa', 1, (d) => 3 * at(d, 0)),
  scalar(0x0b, 'intakeManifoldPressure', 'Intake manifold absolute pressure', 'kPa', 1, (d) => at(d, 0)),
  scalar(0x0c, 'engineRpm', 'Engine speed', 'rpm', 2, (d) => u16(d, 0) / 4),
  scalar(0x0d, 'vehicleSpeed', 'Vehicle speed', 'km/h', 1, (d) => at(d, 0)),
  scalar(0x0e, 'timingAdvance', 'Timing advance (before TDC)', '°', 1, (d) => at(d, 0) / 2 - 64),
  tempPid(0x0f, 'intakeAirTemp', 'Intake air temperature'),
  scalar(0x10, 'mafAirFlowRate', 'Mass air flow rate', 'g/s', 2, (d) => u16(d, 0) / 100),
  percentPid(0x11, 'throttlePosition', 'Absolute throttle position'),
  text(
    0x12,
    'secondaryAirStatus',
    'Commanded secondary air status',
    1,
    (d) => SECONDARY_AIR_STATUS[at(d, 0)] ?? `unknown (${at(d, 0)})`,
  ),
  multi(
    0x13,
    'oxygenSensorsPresent',
    'Oxygen sensors present (2 banks)',
    1,
    Object.fromEntries(O2_LOCATIONS.map((l) => [l.toLowerCase(), ''])),
    (d) => Object.fromEntries(O2_LOCATIONS.map((l, i) => [l.toLowerCase(), bit(at(d, 0), i)])),
  ),
  ...Array.from({ length: 8 }, (_, i) => o2Narrow(i)),
  multi(0x1c, 'obdStandard', 'OBD standards this vehicle conforms to', 1, { code: '', name: '' }, (d) =>
    enumField(OBD_STANDARDS, at(d, 0)),
  ),
  multi(
    0x1d,
    'oxygenSensorsPresent4Banks',
    'Oxygen sensors present (4 banks)',
    1,
    Object.fromEntries(['b1s1', 'b1s2', 'b2s1', 'b2s2', 'b3s1', 'b3s2', 'b4s1', 'b4s2'].map((l) => [l, ''])),
    (d) =>
      Object.fromEntries(
        ['b1s1', 'b1s2', 'b2s1', 'b2s2', 'b3s1', 'b3s2', 'b4s1', 'b4s2'].map((l, i) => [l, bit(at(d, 0), i)]),
      ),
  ),
  multi(0x1e, 'auxiliaryInputStatus', 'Auxiliary input status', 1, { ptoActive: '' }, (d) => ({
    ptoActive: bit(at(d, 0), 0),
  })),
  scalar(0x1f, 'runTimeSinceStart', 'Run time since engine start', 's', 2, (d) => u16(d, 0)),

  supportPid(0x20),
  scalar(0x21, 'distanceWithMil', 'Distance traveled with MIL on', 'km', 2, (d) => u16(d, 0)),
  scalar(
    0x22,
    'fuelRailPressureRelative',
    'Fuel rail pressure (relative to manifold vacuum)',
    'kPa',
    2,
    (d) => 0.079 * u16(d, 0),
  ),
  scalar(
    0x23,
    'fuelRailGaugePressure',
    'Fuel rail gauge pressure (diesel, GDI)',
    'kPa',
    2,
    (d) => 10 * u16(d, 0),
  ),
  ...Array.from({ length: 8 }, (_, i) => o2WideVoltage(i)),
  percentPid(0x2c, 'commandedEgr', 'Commanded EGR'),
  trimPid(0x2d, 'egrError', 'EGR error'),
  percentPid(0x2e, 'commandedEvapPurge', 'Commanded evaporative purge'),
  percentPid(0x2f, 'fuelTankLevel', 'Fuel tank level input'),
  scalar(0x30, 'warmUpsSinceCodesCleared', 'Warm-ups since codes cleared', 'count', 1, (d) => at(d, 0)),
  scalar(0x31, 'distanceSinceCodesCleared', 'Distance traveled since codes cleared', 'km', 2, (d) =>
    u16(d, 0),
  ),
  // Two's complement (J1979-DA): -8192 ... 8191.75 Pa.
  scalar(0x32, 'evapVaporPressure', 'Evap system vapor pressure', 'Pa', 2, (d) => s16(d, 0) / 4),
  scalar(0x33, 'barometricPressure', 'Absolute barometric pressure', 'kPa', 1, (d) => at(d, 0)),
  ...Array.from({ length: 8 }, (_, i) => o2WideCurrent(i)),
  ...Array.from({ length: 4 }, (_, i) => catalystTemp(i)),

  supportPid(0x40),
  multi(
    0x41,
    'monitorStatusThisCycle',
    'Monitor status this drive cycle',
    4,
    { milOn: '', dtcCount: 'count', ignition: '' },
    (d) => monitorStatus(d, false),
  ),
  scalar(0x42, 'controlModuleVoltage', 'Control module voltage', 'V', 2, (d) => u16(d, 0) / 1000),
  scalar(0x43, 'absoluteLoad', 'Absolute load value', '%', 2, (d) => pct(u16(d, 0))),
  scalar(
    0x44,
    'commandedEquivalenceRatio',
    'Commanded air-fuel equivalence ratio (lambda)',
    'ratio',
    2,
    (d) => (2 / 65536) * u16(d, 0),
  ),
  percentPid(0x45, 'relativeThrottlePosition', 'Relative throttle position'),
  tempPid(0x46, 'ambientAirTemp', 'Ambient air temperature'),
  percentPid(0x47, 'absoluteThrottlePositionB', 'Absolute throttle position B'),
  percentPid(0x48, 'absoluteThrottlePositionC', 'Absolute throttle position C'),
  percentPid(0x49, 'acceleratorPedalPositionD', 'Accelerator pedal position D'),
  percentPid(0x4a, 'acceleratorPedalPositionE', 'Accelerator pedal position E'),
  percentPid(0x4b, 'acceleratorPedalPositionF', 'Accelerator pedal position F'),
  percentPid(0x4c, 'commandedThrottleActuator', 'Commanded throttle actuator'),
  scalar(0x4d, 'timeRunWithMil', 'Time run with MIL on', 'min', 2, (d) => u16(d, 0)),
  scalar(0x4e, 'timeSinceCodesCleared', 'Time since trouble codes cleared', 'min', 2, (d) => u16(d, 0)),
  multi(
    0x4f,
    'maximumValues',
    'Maximum values: equivalence ratio, O2 sensor voltage and current, intake manifold pressure',
    4,
    {
      equivalenceRatio: 'ratio',
      oxygenSensorVoltageV: 'V',
      oxygenSensorCurrentMa: 'mA',
      intakeManifoldPressureKpa: 'kPa',
    },
    (d) => ({
      equivalenceRatio: at(d, 0),
      oxygenSensorVoltageV: at(d, 1),
      oxygenSensorCurrentMa: at(d, 2),
      intakeManifoldPressureKpa: 10 * at(d, 3),
    }),
  ),
  // B, C, D reserved.
  scalar(
    0x50,
    'maximumMafAirFlowRate',
    'Maximum air flow rate from the MAF sensor',
    'g/s',
    4,
    (d) => 10 * at(d, 0),
  ),
  multi(0x51, 'fuelType', 'Fuel type', 1, { code: '', name: '' }, (d) => enumField(FUEL_TYPES, at(d, 0))),
  percentPid(0x52, 'ethanolFuel', 'Ethanol fuel'),
  scalar(
    0x53,
    'absoluteEvapVaporPressure',
    'Absolute evap system vapor pressure',
    'kPa',
    2,
    (d) => u16(d, 0) / 200,
  ),
  // Two's complement: -32768 ... 32767 Pa.
  scalar(0x54, 'evapVaporPressureWide', 'Evap system vapor pressure (wide range)', 'Pa', 2, (d) => s16(d, 0)),
  secondaryTrim(
    0x55,
    'shortTermSecondaryO2TrimBank1And3',
    'Short term secondary O2 sensor trim, banks 1 and 3',
    [1, 3],
  ),
  secondaryTrim(
    0x56,
    'longTermSecondaryO2TrimBank1And3',
    'Long term secondary O2 sensor trim, banks 1 and 3',
    [1, 3],
  ),
  secondaryTrim(
    0x57,
    'shortTermSecondaryO2TrimBank2And4',
    'Short term secondary O2 sensor trim, banks 2 and 4',
    [2, 4],
  ),
  secondaryTrim(
    0x58,
    'longTermSecondaryO2TrimBank2And4',
    'Long term secondary O2 sensor trim, banks 2 and 4',
    [2, 4],
  ),
  scalar(0x59, 'fuelRailAbsolutePressure', 'Fuel rail absolute pressure', 'kPa', 2, (d) => 10 * u16(d, 0)),
  percentPid(0x5a, 'relativeAcceleratorPedalPosition', 'Relative accelerator pedal position'),
  percentPid(0x5b, 'hybridBatteryRemainingLife', 'Hybrid battery pack remaining life'),
  tempPid(0x5c, 'engineOilTemp', 'Engine oil temperature'),
  scalar(0x5d, 'fuelInjectionTiming', 'Fuel injection timing', '°', 2, (d) => u16(d, 0) / 128 - 210),
  scalar(0x5e, 'engineFuelRate', 'Engine fuel rate', 'L/h', 2, (d) => u16(d, 0) / 20),
  multi(
    0x5f,
    'emissionRequirements',
    'Emission requirements to which the vehicle is designed',
    1,
    { code: '', name: '' },
    (d) => enumField(EMISSION_REQUIREMENTS, at(d, 0)),
  ),

  supportPid(0x60),
  torquePid(0x61, 'driverDemandTorque', "Driver's demand engine percent torque"),
  torquePid(0x62, 'actualEngineTorque', 'Actual engine percent torque'),
  scalar(0x63, 'engineReferenceTorque', 'Engine reference torque', 'Nm', 2, (d) => u16(d, 0)),
  multi(
    0x64,
    'enginePercentTorqueData',
    'Engine percent torque data',
    5,
    { idlePct: '%', point1Pct: '%', point2Pct: '%', point3Pct: '%', point4Pct: '%' },
    (d) => ({
      idlePct: at(d, 0) - 125,
      point1Pct: at(d, 1) - 125,
      point2Pct: at(d, 2) - 125,
      point3Pct: at(d, 3) - 125,
      point4Pct: at(d, 4) - 125,
    }),
  ),
  multi(
    0x65,
    'auxiliaryInputOutput',
    'Auxiliary input / output supported',
    2,
    {
      ptoActive: '',
      autoTransmissionNeutralDriveBit: '',
      manualTransmissionNeutralGearBit: '',
      glowPlugLampOn: '',
    },
    (d) => ({
      ptoActive: bit(at(d, 0), 0) ? bit(at(d, 1), 0) : null,
      autoTransmissionNeutralDriveBit: ifBit(d, 1, (at(d, 1) >> 1) & 1),
      manualTransmissionNeutralGearBit: ifBit(d, 2, (at(d, 1) >> 2) & 1),
      glowPlugLampOn: bit(at(d, 0), 3) ? bit(at(d, 1), 3) : null,
    }),
  ),
  words(
    0x66,
    'mafSensors',
    'Mass air flow sensors A and B',
    'g/s',
    ['sensorAGs', 'sensorBGs'],
    (w) => w / 32,
  ),
  byteTemps(0x67, 'coolantTempSensors', 'Engine coolant temperature sensors 1 and 2', [
    'sensor1C',
    'sensor2C',
  ]),
  byteTemps(0x68, 'intakeAirTempSensors', 'Intake air temperature sensors', [
    'bank1Sensor1C',
    'bank1Sensor2C',
    'bank1Sensor3C',
    'bank2Sensor1C',
    'bank2Sensor2C',
    'bank2Sensor3C',
  ]),
  multi(
    0x69,
    'egrCommandedAndError',
    'Commanded EGR and EGR error',
    7,
    {
      commandedEgrADutyPct: '%',
      actualEgrADutyPct: '%',
      egrAErrorPct: '%',
      commandedEgrBDutyPct: '%',
      actualEgrBDutyPct: '%',
      egrBErrorPct: '%',
    },
    (d) => ({
      commandedEgrADutyPct: ifBit(d, 0, pct(at(d, 1))),
      actualEgrADutyPct: ifBit(d, 1, pct(at(d, 2))),
      egrAErrorPct: ifBit(d, 2, trim(at(d, 3))),
      commandedEgrBDutyPct: ifBit(d, 3, pct(at(d, 4))),
      actualEgrBDutyPct: ifBit(d, 4, pct(at(d, 5))),
      egrBErrorPct: ifBit(d, 5, trim(at(d, 6))),
    }),
  ),
  bytePercents(
    0x6a,
    'dieselIntakeAirFlow',
    'Commanded diesel intake air flow control and relative position',
    ['commandedAPct', 'relativePositionAPct', 'commandedBPct', 'relativePositionBPct'],
  ),
  byteTemps(0x6b, 'egrTemperature', 'Exhaust gas recirculation temperature', [
    'bank1Sensor1C',
    'bank1Sensor2C',
    'bank2Sensor1C',
    'bank2Sensor2C',
  ]),
  bytePercents(
    0x6c,
    'throttleActuatorControl',
    'Commanded throttle actuator control and relative throttle position',
    ['commandedAPct', 'relativePositionAPct', 'commandedBPct', 'relativePositionBPct'],
  ),
  multi(
    0x6d,
    'fuelPressureControl',
    'Fuel pressure control system',
    11,
    {
      commandedRailPressureAKpa: 'kPa',
      railPressureAKpa: 'kPa',
      railTemperatureAC: '°C',
      commandedRailPressureBKpa: 'kPa',
      railPressureBKpa: 'kPa',
      railTemperatureBC: '°C',
    },
    (d) => ({
      commandedRailPressureAKpa: ifBit(d, 0, 10 * u16(d, 1)),
      railPressureAKpa: ifBit(d, 1, 10 * u16(d, 3)),
      railTemperatureAC: ifBit(d, 2, temp(at(d, 5))),
      commandedRailPressureBKpa: ifBit(d, 3, 10 * u16(d, 6)),
      railPressureBKpa: ifBit(d, 4, 10 * u16(d, 8)),
      railTemperatureBC: ifBit(d, 5, temp(at(d, 10))),
    }),
  ),
  words(
    0x6e,
    'injectionPressureControl',
    'Injection pressure control system',
    'kPa',
    ['commandedAKpa', 'actualAKpa', 'commandedBKpa', 'actualBKpa'],
    (w) => 10 * w,
  ),
  multi(
    0x6f,
    'turboInletPressure',
    'Turbocharger compressor inlet pressure',
    3,
    { sensorAKpa: 'kPa', sensorBKpa: 'kPa' },
    (d) => ({ sensorAKpa: ifBit(d, 0, at(d, 1)), sensorBKpa: ifBit(d, 1, at(d, 2)) }),
  ),
  multi(
    0x70,
    'boostPressureControl',
    'Boost pressure control',
    10,
    { commandedAKpa: 'kPa', sensorAKpa: 'kPa', commandedBKpa: 'kPa', sensorBKpa: 'kPa', status: '' },
    (d) => ({
      commandedAKpa: ifBit(d, 0, u16(d, 1) / 32),
      sensorAKpa: ifBit(d, 1, u16(d, 3) / 32),
      commandedBKpa: ifBit(d, 2, u16(d, 5) / 32),
      sensorBKpa: ifBit(d, 3, u16(d, 7) / 32),
      status: hex([at(d, 9)]),
    }),
  ),
  multi(
    0x71,
    'vgtControl',
    'Variable geometry turbo (VGT) control',
    6,
    { commandedAPct: '%', positionAPct: '%', commandedBPct: '%', positionBPct: '%', status: '' },
    (d) => ({
      commandedAPct: ifBit(d, 0, pct(at(d, 1))),
      positionAPct: ifBit(d, 1, pct(at(d, 2))),
      commandedBPct: ifBit(d, 2, pct(at(d, 3))),
      positionBPct: ifBit(d, 3, pct(at(d, 4))),
      status: hex([at(d, 5)]),
    }),
  ),
  bytePercents(0x72, 'wastegateControl', 'Wastegate control', [
    'commandedAPct',
    'positionAPct',
    'commandedBPct',
    'positionBPct',
  ]),
  words(0x73, 'exhaustPressure', 'Exhaust pressure', 'kPa', ['bank1Kpa', 'bank2Kpa'], (w) => w / 100),
  words(0x74, 'turboRpm', 'Turbocharger speed', 'rpm', ['turboARpm', 'turboBRpm'], (w) => 10 * w),
  ...[0x75, 0x76].map((pid, i) =>
    multi(
      pid,
      `turbo${'AB'[i]}Temperature`,
      `Turbocharger ${'AB'[i]} temperature`,
      7,
      { compressorInletC: '°C', compressorOutletC: '°C', turbineInletC: '°C', turbineOutletC: '°C' },
      (d) => ({
        compressorInletC: ifBit(d, 0, temp(at(d, 1))),
        compressorOutletC: ifBit(d, 1, temp(at(d, 2))),
        turbineInletC: ifBit(d, 2, wideTemp(d, 3)),
        turbineOutletC: ifBit(d, 3, wideTemp(d, 5)),
      }),
    ),
  ),
  byteTemps(0x77, 'chargeAirCoolerTemp', 'Charge air cooler temperature (CACT)', [
    'bank1Sensor1C',
    'bank1Sensor2C',
    'bank2Sensor1C',
    'bank2Sensor2C',
  ]),
  wideTemps(0x78, 'exhaustGasTempBank1', 'Exhaust gas temperature (EGT), bank 1', [
    'sensor1C',
    'sensor2C',
    'sensor3C',
    'sensor4C',
  ]),
  wideTemps(0x79, 'exhaustGasTempBank2', 'Exhaust gas temperature (EGT), bank 2', [
    'sensor1C',
    'sensor2C',
    'sensor3C',
    'sensor4C',
  ]),
  ...[0x7a, 0x7b].map((pid, i) =>
    multi(
      pid,
      `dpfBank${i + 1}`,
      `Diesel particulate filter (DPF), bank ${i + 1}`,
      7,
      { deltaPressureKpa: 'kPa', inletPressureKpa: 'kPa', outletPressureKpa: 'kPa' },
      (d) => ({
        // Delta pressure is signed: a blocked sensor line can read below zero.
        deltaPressureKpa: ifBit(d, 0, s16(d, 1) / 100),
        inletPressureKpa: ifBit(d, 1, u16(d, 3) / 100),
        outletPressureKpa: ifBit(d, 2, u16(d, 5) / 100),
      }),
    ),
  ),
  wideTemps(0x7c, 'dpfTemperature', 'Diesel particulate filter (DPF) temperature', [
    'bank1InletC',
    'bank1OutletC',
    'bank2InletC',
    'bank2OutletC',
  ]),
  nteStatus(0x7d, 'noxNteStatus', 'NOx NTE (not-to-exceed) control area status'),
  nteStatus(0x7e, 'pmNteStatus', 'PM NTE (not-to-exceed) control area status'),
  multi(0x7f, 'engineRunTime', 'Engine run time', 13, { totalS: 's', idleS: 's', ptoS: 's' }, (d) => ({
    totalS: ifBit(d, 0, u32(d, 1)),
    idleS: ifBit(d, 1, u32(d, 5)),
    ptoS: ifBit(d, 2, u32(d, 9)),
  })),

  supportPid(0x80),
  raw(0x81, 'aecdRunTime1To5', 'Engine run time for AECD #1-#5', 41),
  raw(0x82, 'aecdRunTime6To10', 'Engine run time for AECD #6-#10', 41),
  words(
    0x83,
    'noxSensor',
    'NOx sensor concentration',
    'ppm',
    ['sensor1Ppm', 'sensor2Ppm', 'sensor3Ppm', 'sensor4Ppm'],
    (w) => w,
  ),
  tempPid(0x84, 'manifoldSurfaceTemp', 'Manifold surface temperature'),
  raw(0x85, 'noxReagentSystem', 'NOx reagent system', 10),
  raw(0x86, 'pmSensor', 'Particulate matter (PM) sensor', 5),
  words(
    0x87,
    'intakeManifoldPressureSensors',
    'Intake manifold absolute pressure sensors A and B',
    'kPa',
    ['sensorAKpa', 'sensorBKpa'],
    (w) => w / 32,
  ),
  raw(0x88, 'scrInduceSystem', 'SCR induce system', 13),
  raw(0x89, 'aecdRunTime11To15', 'Run time for AECD #11-#15', 41),
  raw(0x8a, 'aecdRunTime16To20', 'Run time for AECD #16-#20', 41),
  raw(0x8b, 'dieselAftertreatment', 'Diesel aftertreatment', 7),
  raw(0x8c, 'oxygenSensorWideRange', 'O2 sensor (wide range)', 17),
  percentPid(0x8d, 'throttlePositionG', 'Throttle position G'),
  torquePid(0x8e, 'engineFrictionTorque', 'Engine friction percent torque'),
  raw(0x8f, 'pmSensorBanks', 'PM sensor, banks 1 and 2', 7),
  raw(0x90, 'wwhObdSystemInfo', 'WWH-OBD vehicle OBD system information', 3),
  raw(0x91, 'wwhObdSystemInfo2', 'WWH-OBD vehicle OBD system information (2)', 5),
  raw(0x92, 'fuelSystemControl', 'Fuel system control', 2),
  raw(0x93, 'wwhObdCounters', 'WWH-OBD vehicle OBD counters support', 3),
  raw(0x94, 'noxWarningInducement', 'NOx warning and inducement system', 12),
  raw(0x98, 'exhaustGasTempSensorA', 'Exhaust gas temperature sensor (98)', 9),
  raw(0x99, 'exhaustGasTempSensorB', 'Exhaust gas temperature sensor (99)', 9),
  raw(0x9a, 'hybridEvSystemData', 'Hybrid/EV vehicle system data, battery, voltage', 6),
  raw(0x9b, 'dieselExhaustFluidSensor', 'Diesel exhaust fluid sensor data', 4),
  raw(0x9c, 'oxygenSensorData', 'O2 sensor data', 17),
  multi(
    0x9d,
    'engineFuelRateMass',
    'Engine and vehicle fuel rate',
    4,
    { engineGs: 'g/s', vehicleGs: 'g/s' },
    (d) => ({
      engineGs: u16(d, 0) / 50,
      vehicleGs: u16(d, 2) / 50,
    }),
  ),
  scalar(0x9e, 'exhaustFlowRate', 'Engine exhaust flow rate', 'kg/h', 2, (d) => u16(d, 0) / 5),
  raw(0x9f, 'fuelSystemPercentageUse', 'Fuel system percentage use', 9),

  supportPid(0xa0),
  words(
    0xa1,
    'noxSensorCorrected',
    'NOx sensor corrected data',
    'ppm',
    ['sensor1Ppm', 'sensor2Ppm', 'sensor3Ppm', 'sensor4Ppm'],
    (w) => w,
  ),
  scalar(0xa2, 'cylinderFuelRate', 'Cylinder fuel rate', 'mg/stroke', 2, (d) => u16(d, 0) / 32),
  raw(0xa3, 'evapVaporPressureSensors', 'Evap system vapor pressure (sensors)', 9),
  multi(0xa4, 'transmissionGear', 'Transmission actual gear', 4, { gear: '', ratio: 'ratio' }, (d) => ({
    gear: ifBit(d, 1, at(d, 1) >> 4),
    ratio: ifBit(d, 1, u16(d, 2) / 1000),
  })),
  multi(0xa5, 'commandedDefDosing', 'Commanded diesel exhaust fluid dosing', 4, { dosingPct: '%' }, (d) => ({
    dosingPct: ifBit(d, 0, at(d, 1) / 2),
  })),
  scalar(0xa6, 'odometer', 'Odometer', 'km', 4, (d) => u32(d, 0) / 10),
  raw(0xa7, 'noxSensorConcentration3And4', 'NOx sensor concentration, sensors 3 and 4', 4),
  raw(0xa8, 'noxSensorCorrected3And4', 'NOx sensor corrected concentration, sensors 3 and 4', 4),
  multi(0xa9, 'absDisableSwitch', 'ABS disable switch state', 4, { absSwitchOn: '' }, (d) => ({
    absSwitchOn: bit(at(d, 0), 0) ? bit(at(d, 1), 0) : null,
  })),

  supportPid(0xc0),
  // J1979-DA lists C3 and C4 without a fixed layout: asked alone, answered raw.
  raw(0xc3, 'pidC3', 'PID C3 (manufacturer data: drive condition, engine speed)', 0),
  raw(0xc4, 'pidC4', 'PID C4 (engine idle / stop request)', 0),
];

/** Every known service 01 PID, by number. */
export const MODE01: ReadonlyMap<number, Mode01Pid> = new Map(DEFINITIONS.map((d) => [d.pid, d]));

/** PIDs 00, 20, 40, ...: the "PIDs supported" bitmaps (J1979 chaining through bit 0 of D). */
export const isSupportPid = (pid: number): boolean => pid % 0x20 === 0 && pid <= 0xe0;

const BY_KEY: ReadonlyMap<string, Mode01Pid> = new Map(DEFINITIONS.map((d) => [d.key.toLowerCase(), d]));

/** Short names a technician types; the table's keys work too. */
const ALIASES: Readonly<Record<string, number>> = {
  rpm: 0x0c,
  speed: 0x0d,
  coolant: 0x05,
  load: 0x04,
  throttle: 0x11,
  maf: 0x10,
  map: 0x0b,
  iat: 0x0f,
  fuel: 0x2f,
  fuellevel: 0x2f,
  fuelrate: 0x5e,
  fueltype: 0x51,
  ambient: 0x46,
  runtime: 0x1f,
  voltage: 0x42,
  odometer: 0xa6,
  oiltemp: 0x5c,
};

/** `0C`, `0x0c`, `010C`, `rpm`, `engineRpm` -> the PID definition; undefined when unknown. */
export function findPid(spec: string): Mode01Pid | undefined {
  const s = spec.trim();
  const hexMatch = /^(?:0x|01)?([0-9a-f]{2})$/i.exec(s);
  if (hexMatch) return MODE01.get(Number.parseInt(hexMatch[1]!, 16));
  const lower = s.toLowerCase();
  const alias = ALIASES[lower];
  return alias !== undefined ? MODE01.get(alias) : BY_KEY.get(lower);
}

/** Human text for a decoded value: `1726.25 rpm`, `voltageV=0.45 V, shortTermFuelTrimPct=-2.3 %`. */
export function formatPidValue(def: Mode01Pid, value: PidValue): string {
  const num = (n: number) => (Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000));
  if (typeof value === 'number') return def.unit ? `${num(value)} ${def.unit}` : num(value);
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([k, v]) => {
      const unit = def.fields?.[k];
      const shown = typeof v === 'number' ? num(v) : v === null ? 'n/a' : String(v);
      return unit && v !== null && typeof v === 'number' && unit !== 'count'
        ? `${k}=${shown} ${unit}`
        : `${k}=${shown}`;
    })
    .join(', ');
}

// ---- the foundation's telemetry subset (kept: agent.ts and the sample schema use these names) --

/**
 * Mode 01 PIDs of the telemetry sample, as data plus small decoders (SAE J1979 / J1979-DA
 * formulas; A, B = data bytes).
 */
export interface PidDefinition {
  pid: number;
  name: string;
  unit: string;
  bytes: number;
  decode(data: readonly number[]): number;
}

export const PIDS = {
  /** 05 engine coolant temperature: A - 40 °C [-40...215]. */
  coolantC: {
    pid: 0x05,
    name: 'Engine coolant temperature',
    unit: '°C',
    bytes: 1,
    decode: ([a = 0]) => a - 40,
  },
  /** 0C engine speed: (256A + B) / 4 rpm [0...16383.75]. */
  rpm: {
    pid: 0x0c,
    name: 'Engine speed',
    unit: 'rpm',
    bytes: 2,
    decode: ([a = 0, b = 0]) => (256 * a + b) / 4,
  },
  /** 0D vehicle speed: A km/h [0...255]. */
  speedKmh: { pid: 0x0d, name: 'Vehicle speed', unit: 'km/h', bytes: 1, decode: ([a = 0]) => a },
  /** 2F fuel tank level input: 100A / 255 % [0...100]. */
  fuelLevelPct: {
    pid: 0x2f,
    name: 'Fuel tank level input',
    unit: '%',
    bytes: 1,
    decode: ([a = 0]) => (100 * a) / 255,
  },
  /** A6 odometer: (2^24 A + 2^16 B + 2^8 C + D) / 10 km (issue 17: the distance IFTA files). */
  odometerKm: {
    pid: 0xa6,
    name: 'Odometer',
    unit: 'km',
    bytes: 4,
    decode: ([a = 0, b = 0, c = 0, d = 0]) => (a * 0x1000000 + b * 0x10000 + c * 0x100 + d) / 10,
  },
} as const satisfies Record<string, PidDefinition>;

export type ObdReadingName = keyof typeof PIDS;

/**
 * Parses a mode 01 answer line with spaces and headers off (`410D3C`) into the PID's data bytes.
 * Returns null when the line is not the answer to `pid`.
 */
export function parseMode01Line(line: string, pid: number): number[] | null {
  const hexText = line.replace(/\s+/g, '');
  if (!/^([0-9A-Fa-f]{2})+$/.test(hexText)) return null;
  const bytes = hexText.match(/../g)!.map((h) => Number.parseInt(h, 16));
  if (bytes[0] !== 0x41 || bytes[1] !== pid) return null;
  return bytes.slice(2);
}
