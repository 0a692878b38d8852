import type { DriveLogParse, DriveSample } from './drive-log.ts';

/**
 * Torque Pro's CSV export ("trackLog.csv") as drive samples.
 *
 * Torque names columns by their display names with units ("Speed (OBD)(km/h)", "Engine RPM(rpm)",
 * "Fuel flow rate/hour(l/hr)"), pads some with a leading space, and writes '-' for a value it
 * did not have at that row. Times: "Device Time" is the phone's local clock without a zone
 * (23-Feb-2022 06:34:27.403); "GPS Time" carries one (Wed Feb 23 06:37:45 GMT+08:00 2022) but
 * only with a fix. The phone's zone offset is taken from the first row that has both (rounded to
 * 15 min); without any GPS time the device time is read as UTC.
 *
 * What maps where: Speed (OBD), else Speed (GPS), else GPS Speed (m/s); Engine RPM; Fuel flow
 * rate/hour; Mass Air Flow Rate(g/s); Latitude /
 * Longitude; Engine Coolant Temperature; a Fuel Level (From Engine ECU)(%) column when the car
 * has PID 2F. Not mapped: "Fuel Remaining (Calculated from vehicle profile)", which Torque
 * derives from its own fuel-used counter (not a tank reading), and the phone's accelerometer
 * axes (its mounting is unknown, so they are not the vehicle's longitudinal/lateral g), and
 * "Mass Air Flow Rate(cfm)": in the sample export it is ~7x the g/s that Torque's own fuel flow
 * implies, so it is not a usable air flow.
 * Ignition is not logged: null (the detectors infer it from the OBD values).
 */

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

/** "23-Feb-2022 06:34:27.403" as if it were UTC (the zone is applied later). */
export function parseTorqueDeviceTime(text: string): number {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!m) return Number.NaN;
  const month = MONTHS[m[2]!.toLowerCase()];
  if (month === undefined) return Number.NaN;
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  return Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
}

/** "Wed Feb 23 06:37:45 GMT+08:00 2022" -> epoch ms (UTC). */
export function parseTorqueGpsTime(text: string): number {
  const m =
    /^\w{3} (\w{3}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (?:GMT|UTC)([+-])(\d{2}):?(\d{2}) (\d{4})$/.exec(
      text.trim(),
    );
  if (!m) return Number.NaN;
  const month = MONTHS[m[1]!.toLowerCase()];
  if (month === undefined) return Number.NaN;
  const local = Date.UTC(Number(m[9]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
  const offsetMin = (m[6] === '-' ? -1 : 1) * (Number(m[7]) * 60 + Number(m[8]));
  return local - offsetMin * 60_000;
}

type Getter = (cells: string[]) => number | null;

function col(header: string[], ...names: string[]): number {
  for (const n of names) {
    const i = header.indexOf(n.toLowerCase());
    if (i >= 0) return i;
  }
  return -1;
}

/** Parses a Torque Pro CSV export; never throws, bad rows come back with their reason. */
export function parseTorqueCsv(text: string): DriveLogParse {
  const samples: DriveSample[] = [];
  const errors: { line: number; reason: string }[] = [];
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '')
    .replace(/^\uFEFF/, '')
    .split(',')
    .map((h) => h.trim().toLowerCase());
  const deviceCol = col(header, 'Device Time');
  const gpsCol = col(header, 'GPS Time');
  if (deviceCol < 0 && gpsCol < 0) {
    errors.push({ line: 1, reason: 'not a Torque export: no "Device Time" or "GPS Time" column' });
    return { samples, errors };
  }
  const num =
    (i: number, scale = 1): Getter =>
    (cells) => {
      if (i < 0) return null;
      const t = cells[i]?.trim();
      if (!t || t === '-') return null;
      const v = Number(t);
      return Number.isFinite(v) ? v * scale : Number.NaN;
    };
  const speedObd = num(col(header, 'Speed (OBD)(km/h)'));
  const speedGps = num(col(header, 'Speed (GPS)(km/h)'));
  const speedGpsMs = num(col(header, 'GPS Speed (Meters/second)'), 3.6);
  const rpm = num(col(header, 'Engine RPM(rpm)'));
  const fuelRate = num(col(header, 'Fuel flow rate/hour(l/hr)'));
  const mafGps = num(col(header, 'Mass Air Flow Rate(g/s)'));
  const level = num(col(header, 'Fuel Level (From Engine ECU)(%)', 'Fuel Level(%)'));
  const lat = num(col(header, 'Latitude', 'GPS Latitude(°)'));
  const lon = num(col(header, 'Longitude', 'GPS Longitude(°)'));
  const coolant = num(col(header, 'Engine Coolant Temperature(°C)'));

  let offsetMs: number | null = null;
  const rows: { line: number; cells: string[]; device: number; gps: number }[] = [];
  for (let li = 1; li < lines.length; li++) {
    const raw = lines[li]!;
    if (raw.trim() === '') continue;
    const cells = raw.split(',');
    if (cells.length !== header.length) {
      errors.push({ line: li + 1, reason: `${cells.length} cells, header has ${header.length}` });
      continue;
    }
    const device = deviceCol >= 0 ? parseTorqueDeviceTime(cells[deviceCol]!) : Number.NaN;
    const gpsText = gpsCol >= 0 ? cells[gpsCol]!.trim() : '-';
    const gps = gpsText && gpsText !== '-' ? parseTorqueGpsTime(gpsText) : Number.NaN;
    if (Number.isNaN(device) && Number.isNaN(gps)) {
      errors.push({ line: li + 1, reason: 'no readable Device Time or GPS Time' });
      continue;
    }
    if (offsetMs === null && !Number.isNaN(device) && !Number.isNaN(gps)) {
      offsetMs = Math.round((device - gps) / 900_000) * 900_000;
    }
    rows.push({ line: li + 1, cells, device, gps });
  }
  for (const r of rows) {
    const ts = Number.isNaN(r.device) ? r.gps : r.device - (offsetMs ?? 0);
    const get = (g: Getter): number | null => g(r.cells);
    const values = {
      speedKmh: get(speedObd) ?? get(speedGps) ?? get(speedGpsMs),
      rpm: get(rpm),
      fuelLevelPct: get(level),
      fuelRateLph: get(fuelRate),
      mafGps: get(mafGps),
      lat: get(lat),
      lon: get(lon),
      coolantC: get(coolant),
    };
    const bad = Object.entries(values).find(([, v]) => v !== null && Number.isNaN(v));
    if (bad) {
      errors.push({ line: r.line, reason: `${bad[0]} is not a number` });
      continue;
    }
    samples.push({ ts, ignition: null, odometerKm: null, accelXG: null, accelYG: null, ...values });
  }
  // Torque writes in time order, but a phone clock can step: keep time order for the detectors.
  samples.sort((a, b) => a.ts - b.ts);
  return { samples, errors };
}
