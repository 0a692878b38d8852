/**
 * Seeded pseudo-random numbers: every run with the same seed replays the same vehicle, which is
 * what lets a test compare an agent's output with the simulator's ground truth.
 *
 * mulberry32: a 32-bit state, full 2^32 period, good enough statistics for noise and choices;
 * not for cryptography.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer uniform in [min, max] (both included). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /** Standard normal deviate (Box-Muller). */
  gaussian(): number {
    const u = 1 - this.next(); // (0, 1]: log(0) is never taken
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /**
   * An independent stream derived from this one's seed and a label. Each subsystem (driver,
   * sensors, GPS noise) takes its own fork, so adding a random draw in one of them does not shift
   * the numbers every other subsystem sees for the same seed.
   */
  static fork(seed: number, label: string): Random {
    return new Random(hashString(`${seed >>> 0}:${label}`));
  }
}

/** FNV-1a 32-bit: a stable seed from a string (vehicle id, stream label). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
