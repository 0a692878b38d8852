import { SimError, SimErrorCode } from '../errors.ts';

/**
 * How the tank sender's reading relates to the litres in the tank.
 *
 * A float sender measures the fuel's height, not its volume; PID 2F reports that height as % of
 * the sender's travel (SAE J1979 "fuel tank level input"). Only a box-shaped tank makes height
 * proportional to volume. Fleet platforms therefore ask for a calibration table per vehicle
 * (Wialon: sensor value -> litres, filled bucket by bucket); a detector that assumes a linear
 * tank misreads every refuel near the top or bottom of a shaped one.
 *
 *   linear     box tank: reading % = litres / capacity (the default)
 *   cylinder   horizontal cylinder (truck saddle tanks, most heavy vehicles): a reading of 10 %
 *              holds only ~5 % of the capacity, 50 % holds 50 %
 *   table      explicit calibration points [readingPct, litres], both strictly increasing,
 *              from [0, 0] to [100, capacity] (e.g. a stepped tank round a spare wheel)
 */
export type TankShape =
  | { kind: 'linear' }
  | { kind: 'cylinder' }
  | { kind: 'table'; points: readonly (readonly [number, number])[] };

export const TANK_SHAPES = ['linear', 'cylinder'] as const;

/** Points of the volume -> height table computed for shapes given as a formula. */
const FORMULA_POINTS = 401;

/** Volume fraction of a horizontal cylinder filled to height fraction h (circular segment area). */
function cylinderVolumeFraction(h: number): number {
  const theta = 2 * Math.acos(1 - 2 * Math.min(1, Math.max(0, h)));
  return (theta - Math.sin(theta)) / (2 * Math.PI);
}

/**
 * The sender of one tank: litres <-> reading %. Both directions interpolate linearly in one
 * monotonic table, so they are exact inverses of each other at the table points.
 */
export class TankGauge {
  /** Reading % at each table point, ascending. */
  private readonly pct: number[];
  /** Litres at each table point, ascending. */
  private readonly litres: number[];

  constructor(
    readonly capacityLitres: number,
    readonly shape: TankShape = { kind: 'linear' },
  ) {
    if (!(capacityLitres > 0)) throw new RangeError(`tank capacity must be > 0: ${capacityLitres}`);
    if (shape.kind === 'linear') {
      this.pct = [0, 100];
      this.litres = [0, capacityLitres];
    } else if (shape.kind === 'cylinder') {
      this.pct = [];
      this.litres = [];
      for (let i = 0; i < FORMULA_POINTS; i++) {
        const h = i / (FORMULA_POINTS - 1);
        this.pct.push(h * 100);
        this.litres.push(cylinderVolumeFraction(h) * capacityLitres);
      }
    } else {
      validateTable(shape.points, capacityLitres);
      this.pct = shape.points.map((p) => p[0]);
      this.litres = shape.points.map((p) => p[1]);
    }
  }

  get shapeName(): string {
    return this.shape.kind;
  }

  /** What the sender reads (% of its travel) with this many litres in a still tank. */
  readingPct(litres: number): number {
    if (this.shape.kind === 'linear') return (litres / this.capacityLitres) * 100;
    return interpolate(this.litres, this.pct, litres);
  }

  /** Litres for a sender reading: what a calibration table gives a platform. */
  litresAt(readingPct: number): number {
    if (this.shape.kind === 'linear') return (readingPct / 100) * this.capacityLitres;
    return interpolate(this.pct, this.litres, readingPct);
  }

  /** The calibration as [readingPct, litres] points every `stepPct` (for the labels file). */
  calibrationTable(stepPct = 5): [number, number][] {
    const out: [number, number][] = [];
    for (let p = 0; p <= 100 + 1e-9; p += stepPct) {
      out.push([Math.round(p * 1000) / 1000, Math.round(this.litresAt(p) * 1000) / 1000]);
    }
    return out;
  }
}

function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  const n = xs.length;
  if (x <= xs[0]!) return ys[0]!;
  if (x >= xs[n - 1]!) return ys[n - 1]!;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const f = (x - xs[lo]!) / (xs[hi]! - xs[lo]!);
  return ys[lo]! + f * (ys[hi]! - ys[lo]!);
}

function validateTable(points: readonly (readonly [number, number])[], capacity: number): void {
  const fail = (why: string): never => {
    throw new SimError(SimErrorCode.InvalidScenario, `tank calibration table: ${why}`);
  };
  if (points.length < 2) fail('needs at least 2 points');
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (first[0] !== 0 || first[1] !== 0) fail('must start at [0, 0]');
  if (last[0] !== 100) fail('must end at reading 100');
  if (Math.abs(last[1] - capacity) > 1e-6) fail(`must end at the capacity [100, ${capacity}]`);
  for (let i = 1; i < points.length; i++) {
    if (!(points[i]![0] > points[i - 1]![0]) || !(points[i]![1] > points[i - 1]![1])) {
      fail('readings and litres must both strictly increase');
    }
  }
}

/** Parse `--tank-shape`: linear | cylinder. */
export function tankShapeByName(name: string): TankShape {
  if (name === 'linear' || name === 'cylinder') return { kind: name };
  throw new SimError(
    SimErrorCode.InvalidOption,
    `unknown tank shape "${name}" (known: ${TANK_SHAPES.join(', ')}; a table goes in a scenario file)`,
  );
}
