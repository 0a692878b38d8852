/**
 * Telemetry payload v2: a compact, columnar binary form of `TelemetryBatch`.
 *
 *   offset  size      field
 *   0       2         magic 0xFB 0x46 (0xFB can never start UTF-8 text, so v1 JSON `{` never collides)
 *   2       1         format version = 2
 *   3       1         flags: bit0 historical, bit1 batchSeq present, bit2 drop counters present,
 *                     bit3 distance columns present (issue 17; older decoders refuse bit3, so an agent
 *                     sets it only when a sample carries an odometer or GPS-odometer reading)
 *   4       1 + L     vehicle id: length L [1...64], ASCII
 *   ...     varint    batchSeq                               (flag bit1)
 *   ...     varint k, k varints: drop counters [rawSynced, rawUnsynced, rollups, events, ...]  (flag bit2)
 *   ...     varint    n samples [1...5000]
 *   ...     column seq:  varint first, then n-1 zigzag varint deltas
 *   ...     column ts:   same (epoch ms)
 *   ...     6 value columns lat, lon, speedKmh, rpm, fuelLevelPct, coolantC, each:
 *             mode byte: low 7 bits = encoding (0 all null, 1 fixed-point, 2 float64 LE, 3 fine fixed-point),
 *                        bit7 = a null bitmap follows (ceil(n/8) bytes, LSB first, 1 = present)
 *             then one value per present sample: fixed-point as zigzag varint delta of the scaled
 *             integer from the previous present value (the first from 0); float64 as 8 bytes.
 *   ...     (flag bit3) 2 more value columns, same form: odometerKm (PID A6, 0.1 km), gpsDistanceM
 *             (1 m, or 0.1 m fine). A batch without bit3 decodes with both fields absent.
 *
 * Fixed-point scales are the SAE J1979 resolutions of the PIDs (rpm 1/4, fuel 100/255 %, speed and
 * coolant 1), so an OBD value round-trips bit for bit; the encoder checks that per column and falls
 * back to float64 when a value is off the grid (a GPS speed, an interpolated value). Positions use
 * 1e-7 degrees when every value is exactly on that grid, else 1e-10 degrees (11 micrometres, under
 * any GNSS receiver's precision; decoded within 5e-11 degrees of the input). Speed off the 1 km/h
 * grid uses 1/1000 km/h. Everything else is lossless.
 *
 * The decoder checks every length and count against the bytes that remain before allocating, so a
 * forged count cannot make it allocate more than the payload could describe, and never throws.
 */
export const BINARY_MAGIC_0 = 0xfb;
export const BINARY_MAGIC_1 = 0x46;
export const BINARY_FORMAT_VERSION = 2;

/** Names of the drop counters, in wire order (later versions may append; decoders ignore extras). */
export const DROP_COUNTER_NAMES = ['rawSynced', 'rawUnsynced', 'rollups', 'events'] as const;
export type BinaryDropCounters = Record<(typeof DROP_COUNTER_NAMES)[number], number>;

/** The plain shape the codec works on (validated against the zod schema by the caller). */
export interface BinaryBatch {
  vehicleId: string;
  historical?: boolean | undefined;
  batchSeq?: number | undefined;
  dropped?: BinaryDropCounters | undefined;
  samples: {
    seq: number;
    ts: number;
    lat: number | null;
    lon: number | null;
    speedKmh: number | null;
    rpm: number | null;
    fuelLevelPct: number | null;
    coolantC: number | null;
    odometerKm?: number | null | undefined;
    gpsDistanceM?: number | null | undefined;
  }[];
}

type ValueField =
  | 'lat'
  | 'lon'
  | 'speedKmh'
  | 'rpm'
  | 'fuelLevelPct'
  | 'coolantC'
  | 'odometerKm'
  | 'gpsDistanceM';
const VALUE_FIELDS: readonly ValueField[] = ['lat', 'lon', 'speedKmh', 'rpm', 'fuelLevelPct', 'coolantC'];
/** The flag-bit3 columns, after the six above. */
const DISTANCE_FIELDS: readonly ValueField[] = ['odometerKm', 'gpsDistanceM'];
const FLAG_DISTANCE = 8;

const MODE_NULL = 0;
const MODE_FIXED = 1;
const MODE_FLOAT64 = 2;
const MODE_FINE = 3;
const HAS_BITMAP = 0x80;

/** value = int * div / mul (written that way so fuel's `A * 100 / 255` is reproduced exactly). */
interface Scale {
  mul: number;
  div: number;
  /** Lossy scales are used without the exactness check. */
  lossy: boolean;
}
const SCALES: Record<ValueField, { fixed: Scale; fine?: Scale }> = {
  lat: { fixed: { mul: 1e7, div: 1, lossy: false }, fine: { mul: 1e10, div: 1, lossy: true } },
  lon: { fixed: { mul: 1e7, div: 1, lossy: false }, fine: { mul: 1e10, div: 1, lossy: true } },
  speedKmh: { fixed: { mul: 1, div: 1, lossy: false }, fine: { mul: 1000, div: 1, lossy: true } }, // PID 0D: A km/h
  rpm: { fixed: { mul: 4, div: 1, lossy: false } }, // PID 0C: (256A+B)/4
  fuelLevelPct: { fixed: { mul: 255, div: 100, lossy: false } }, // PID 2F: 100A/255
  coolantC: { fixed: { mul: 1, div: 1, lossy: false } }, // PID 05: A-40
  odometerKm: { fixed: { mul: 10, div: 1, lossy: false } }, // PID A6: (2^24A+2^16B+2^8C+D)/10
  gpsDistanceM: { fixed: { mul: 1, div: 1, lossy: false }, fine: { mul: 10, div: 1, lossy: true } },
};

const toInt = (x: number, s: Scale) => Math.round((x * s.mul) / s.div);
const fromInt = (i: number, s: Scale) => (i * s.div) / s.mul;
/** Fixed-point integers stay far inside 2^53 so deltas and sums are exact. */
const MAX_FIXED = 2 ** 50;

// ---------------------------------------------------------------------------------------- writer

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private ensure(extra: number) {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number) {
    this.ensure(1);
    this.buf[this.length++] = b;
  }

  bytes(b: Uint8Array) {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Unsigned LEB128 on a non-negative safe integer (no 32-bit bitwise ops: ts needs 41 bits). */
  varint(v: number) {
    this.ensure(8);
    let x = v;
    while (x >= 0x80) {
      this.buf[this.length++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.buf[this.length++] = x;
  }

  zigzag(v: number) {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  float64(v: number) {
    this.ensure(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Encodes a batch already validated against the schema (the caller's job). */
export function encodeBinaryBatch(batch: BinaryBatch): Uint8Array {
  const w = new Writer();
  const n = batch.samples.length;
  w.byte(BINARY_MAGIC_0);
  w.byte(BINARY_MAGIC_1);
  w.byte(BINARY_FORMAT_VERSION);
  const distance = batch.samples.some(
    (x) =>
      (x.odometerKm !== undefined && x.odometerKm !== null) ||
      (x.gpsDistanceM !== undefined && x.gpsDistanceM !== null),
  );
  const flags =
    (batch.historical ? 1 : 0) |
    (batch.batchSeq !== undefined ? 2 : 0) |
    (batch.dropped ? 4 : 0) |
    (distance ? FLAG_DISTANCE : 0);
  w.byte(flags);
  const id = new TextEncoder().encode(batch.vehicleId);
  w.byte(id.length);
  w.bytes(id);
  if (batch.batchSeq !== undefined) w.varint(batch.batchSeq);
  if (batch.dropped) {
    w.varint(DROP_COUNTER_NAMES.length);
    for (const name of DROP_COUNTER_NAMES) w.varint(batch.dropped[name]);
  }
  w.varint(n);
  for (const key of ['seq', 'ts'] as const) {
    let prev = 0;
    batch.samples.forEach((s, i) => {
      if (i === 0) w.varint(s[key]);
      else w.zigzag(s[key] - prev);
      prev = s[key];
    });
  }
  for (const field of distance ? [...VALUE_FIELDS, ...DISTANCE_FIELDS] : VALUE_FIELDS) {
    const values = batch.samples.map((s) => s[field] ?? null);
    const present = values.filter((v): v is number => v !== null);
    if (present.length === 0) {
      w.byte(MODE_NULL);
      continue;
    }
    const { mode, scale } = chooseEncoding(field, present);
    const hasNulls = present.length < n;
    w.byte(mode | (hasNulls ? HAS_BITMAP : 0));
    if (hasNulls) {
      const bitmap = new Uint8Array(Math.ceil(n / 8));
      values.forEach((v, i) => {
        if (v !== null) bitmap[i >> 3]! |= 1 << (i & 7);
      });
      w.bytes(bitmap);
    }
    if (!scale) {
      for (const v of present) w.float64(v);
      continue;
    }
    let prev = 0;
    for (const v of present) {
      const i = toInt(v, scale);
      w.zigzag(i - prev);
      prev = i;
    }
  }
  return w.result();
}

function fits(values: number[], s: Scale): boolean {
  return values.every((v) => {
    const i = toInt(v, s);
    return Math.abs(i) <= MAX_FIXED && (s.lossy || fromInt(i, s) === v);
  });
}

function chooseEncoding(field: ValueField, values: number[]): { mode: number; scale?: Scale } {
  const { fixed, fine } = SCALES[field];
  if (fits(values, fixed)) return { mode: MODE_FIXED, scale: fixed };
  if (fine && fits(values, fine)) return { mode: MODE_FINE, scale: fine };
  return { mode: MODE_FLOAT64 };
}

// ---------------------------------------------------------------------------------------- reader

class Malformed extends Error {}

class Reader {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining() {
    return this.buf.length - this.pos;
  }

  byte(what: string): number {
    if (this.pos >= this.buf.length) throw new Malformed(`truncated at ${what} (offset ${this.pos})`);
    return this.buf[this.pos++]!;
  }

  bytes(len: number, what: string): Uint8Array {
    if (len > this.remaining)
      throw new Malformed(`truncated at ${what}: ${len} bytes > ${this.remaining} left`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** At most 8 bytes (56 bits), and never above 2^53: a longer varint is a forgery. */
  varint(what: string): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte(what);
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        if (result > Number.MAX_SAFE_INTEGER) throw new Malformed(`${what}: varint out of range`);
        return result;
      }
      mul *= 0x80;
    }
    throw new Malformed(`${what}: varint longer than 8 bytes`);
  }

  zigzag(what: string): number {
    const z = this.varint(what);
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  float64(what: string): number {
    if (this.remaining < 8) throw new Malformed(`truncated at ${what}`);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
}

export type BinaryDecodeResult = { ok: true; batch: BinaryBatch } | { ok: false; reason: string };

/**
 * Decodes the wire form only (lengths, counts, modes); ranges and ids are checked by the schema
 * afterwards. Never throws. `maxSamples` bounds the count before anything is allocated.
 */
export function decodeBinaryBatch(payload: Uint8Array, maxSamples: number): BinaryDecodeResult {
  try {
    return { ok: true, batch: readBatch(new Reader(payload), maxSamples) };
  } catch (err) {
    if (err instanceof Malformed) return { ok: false, reason: `malformed: ${err.message}` };
    return { ok: false, reason: `malformed: ${(err as Error).message}` };
  }
}

function readBatch(r: Reader, maxSamples: number): BinaryBatch {
  if (r.byte('magic') !== BINARY_MAGIC_0 || r.byte('magic') !== BINARY_MAGIC_1) {
    throw new Malformed('bad magic');
  }
  const version = r.byte('version');
  if (version !== BINARY_FORMAT_VERSION) {
    // Same wording as the JSON path so the ingest's dead letters read alike.
    throw new Malformed(`unsupported payload version ${version}`);
  }
  const flags = r.byte('flags');
  if (flags & ~15) throw new Malformed(`unknown flags 0x${flags.toString(16)}`);
  const idLen = r.byte('vehicle id length');
  if (idLen < 1 || idLen > 64) throw new Malformed(`vehicle id length ${idLen} outside [1...64]`);
  const vehicleId = String.fromCharCode(...r.bytes(idLen, 'vehicle id'));
  const batch: BinaryBatch = { vehicleId, samples: [] };
  if (flags & 1) batch.historical = true;
  if (flags & 2) batch.batchSeq = r.varint('batchSeq');
  if (flags & 4) {
    const k = r.varint('drop counter count');
    if (k < DROP_COUNTER_NAMES.length || k > 64) {
      throw new Malformed(`drop counter count ${k} outside [${DROP_COUNTER_NAMES.length}...64]`);
    }
    const dropped = {} as BinaryDropCounters;
    for (let i = 0; i < k; i++) {
      const v = r.varint('drop counter');
      const name = DROP_COUNTER_NAMES[i];
      if (name) dropped[name] = v;
    }
    batch.dropped = dropped;
  }
  const n = r.varint('sample count');
  if (n < 1 || n > maxSamples) throw new Malformed(`sample count ${n} outside [1...${maxSamples}]`);
  // Each sample needs at least one byte of seq and one of ts: refuse before allocating.
  if (n * 2 > r.remaining) throw new Malformed(`sample count ${n} exceeds the ${r.remaining} bytes left`);

  const seqs = readDeltaColumn(r, n, 'seq');
  const tss = readDeltaColumn(r, n, 'ts');
  const columns = {} as Record<ValueField, (number | null)[]>;
  const fields = flags & FLAG_DISTANCE ? [...VALUE_FIELDS, ...DISTANCE_FIELDS] : VALUE_FIELDS;
  for (const field of fields) columns[field] = readValueColumn(r, n, field);
  if (r.remaining !== 0) throw new Malformed(`${r.remaining} trailing bytes`);
  for (let i = 0; i < n; i++) {
    batch.samples.push({
      seq: seqs[i]!,
      ts: tss[i]!,
      lat: columns.lat[i]!,
      lon: columns.lon[i]!,
      speedKmh: columns.speedKmh[i]!,
      rpm: columns.rpm[i]!,
      fuelLevelPct: columns.fuelLevelPct[i]!,
      coolantC: columns.coolantC[i]!,
      ...(flags & FLAG_DISTANCE
        ? { odometerKm: columns.odometerKm[i]!, gpsDistanceM: columns.gpsDistanceM[i]! }
        : {}),
    });
  }
  return batch;
}

function readDeltaColumn(r: Reader, n: number, what: string): number[] {
  const out = new Array<number>(n);
  let prev = r.varint(what);
  out[0] = prev;
  for (let i = 1; i < n; i++) {
    prev += r.zigzag(what);
    out[i] = prev;
  }
  return out;
}

function readValueColumn(r: Reader, n: number, field: ValueField): (number | null)[] {
  const modeByte = r.byte(`${field} mode`);
  const mode = modeByte & 0x7f;
  const out = new Array<number | null>(n).fill(null);
  if (mode === MODE_NULL) {
    if (modeByte !== MODE_NULL) throw new Malformed(`${field}: null column with a bitmap`);
    return out;
  }
  // Indexes of the present values; null: all n (no index array per column on the live path,
  // where every message is a one-sample batch).
  let present: number[] | null = null;
  if (modeByte & HAS_BITMAP) {
    const bitmap = r.bytes(Math.ceil(n / 8), `${field} null bitmap`);
    present = [];
    for (let i = 0; i < n; i++) if (bitmap[i >> 3]! & (1 << (i & 7))) present.push(i);
    if (n % 8 !== 0 && bitmap[bitmap.length - 1]! >> (n % 8) !== 0) {
      throw new Malformed(`${field}: null bitmap has bits past the last sample`);
    }
  }
  const count = present ? present.length : n;
  let scale: Scale | undefined;
  if (mode === MODE_FIXED) scale = SCALES[field].fixed;
  else if (mode === MODE_FINE) scale = SCALES[field].fine;
  if (mode !== MODE_FLOAT64 && !scale) throw new Malformed(`${field}: unknown encoding ${mode}`);
  // Fewest bytes per present value: 1 (varint) or 8 (float64).
  if (count * (scale ? 1 : 8) > r.remaining) {
    throw new Malformed(`${field}: ${count} values exceed the ${r.remaining} bytes left`);
  }
  let prev = 0;
  for (let k = 0; k < count; k++) {
    const i = present ? present[k]! : k;
    if (scale) {
      prev += r.zigzag(field);
      out[i] = fromInt(prev, scale);
    } else {
      out[i] = r.float64(field);
    }
  }
  return out;
}
