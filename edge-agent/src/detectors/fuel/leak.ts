/**
 * Slow leaks: the fuel balance (tank litres + litres the engine burned, with detected refuels
 * and drains taken out) slopes down for hours at a rate no single step shows. One anchor a
 * minute; a least-squares slope over the last LEAK_WINDOW_S; a leak opens when the slope and the
 * loss it implies pass the thresholds and closes when the slope has flattened. Its start and end
 * are then placed by a two-segment fit (flat / sloping), and the volume is the fitted drop.
 */

const ANCHOR_EVERY_MS = 60_000;
const LEAK_WINDOW_S = 2 * 3600;

export interface LeakFinding {
  start: number;
  end: number;
  volumeL: number;
  rateLph: number;
}

interface Anchor {
  ts: number;
  b: number;
}

/** Least-squares line through the anchors: slope in L/h and value at time t. */
function fit(
  a: Anchor[],
  from: number,
  to: number,
): { slopeLph: number; at: (t: number) => number; sse: number } {
  const n = to - from;
  let st = 0;
  let sb = 0;
  for (let i = from; i < to; i++) {
    st += a[i]!.ts;
    sb += a[i]!.b;
  }
  const mt = st / n;
  const mb = sb / n;
  let num = 0;
  let den = 0;
  for (let i = from; i < to; i++) {
    const dt = (a[i]!.ts - mt) / 3.6e6;
    num += dt * (a[i]!.b - mb);
    den += dt * dt;
  }
  const slope = den > 0 ? num / den : 0;
  const at = (t: number): number => mb + slope * ((t - mt) / 3.6e6);
  let sse = 0;
  for (let i = from; i < to; i++) sse += (a[i]!.b - at(a[i]!.ts)) ** 2;
  return { slopeLph: slope, at, sse };
}

function flatSse(a: Anchor[], from: number, to: number): { mean: number; sse: number } {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i]!.b;
  const mean = s / Math.max(1, to - from);
  let sse = 0;
  for (let i = from; i < to; i++) sse += (a[i]!.b - mean) ** 2;
  return { mean, sse };
}

export class LeakTracker {
  private anchors: Anchor[] = [];
  private open: { triggeredTs: number } | null = null;

  constructor(
    private readonly minLph: number,
    private readonly minL: number,
  ) {}

  /** Forget the history (a refuel or drain was just judged; its step is not a slope). */
  reset(): void {
    if (!this.open) this.anchors = [];
  }

  /** Feeds one balance estimate; returns a leak once it has ended. */
  push(ts: number, balance: number): LeakFinding | null {
    const a = this.anchors;
    if (a.length && ts - a[a.length - 1]!.ts < ANCHOR_EVERY_MS) return null;
    a.push({ ts, b: balance });
    const horizon = ts - (this.open ? 12 * 3600_000 : 2 * LEAK_WINDOW_S * 1000);
    while (a.length && a[0]!.ts < horizon) a.shift();
    let from = a.length;
    while (from > 0 && a[from - 1]!.ts >= ts - LEAK_WINDOW_S * 1000) from--;
    const n = a.length - from;
    if (n < 30 || ts - a[from]!.ts < 0.75 * LEAK_WINDOW_S * 1000) return null;
    const f = fit(a, from, a.length);
    const spanH = (ts - a[from]!.ts) / 3.6e6;
    if (!this.open) {
      if (f.slopeLph <= -this.minLph && -f.slopeLph * spanH >= this.minL) this.open = { triggeredTs: ts };
      return null;
    }
    if (f.slopeLph > -this.minLph / 3) {
      this.open = null;
      const found = this.locate();
      this.anchors = [];
      return found;
    }
    return null;
  }

  /** The open leak at the end of the stream, if any. */
  flush(): LeakFinding | null {
    if (!this.open) return null;
    this.open = null;
    const found = this.locate(true);
    this.anchors = [];
    return found;
  }

  /** Flat, then sloping, then flat again: the best start and end by squared error. */
  private locate(stillGoing = false): LeakFinding | null {
    const a = this.anchors;
    const n = a.length;
    if (n < 10) return null;
    let best = { sse: Number.POSITIVE_INFINITY, i: 0, j: n };
    const step = Math.max(1, Math.floor(n / 120));
    for (let i = 0; i < n - 5; i += step) {
      const pre = i > 0 ? flatSse(a, 0, i).sse : 0;
      for (let j = i + 5; j <= n; j += step) {
        if (stillGoing && j !== n) continue;
        const mid = fit(a, i, j);
        if (mid.slopeLph >= 0) continue;
        const post = j < n ? flatSse(a, j, n).sse : 0;
        const sse = pre + mid.sse + post;
        if (sse < best.sse) best = { sse, i, j };
      }
    }
    if (!Number.isFinite(best.sse)) return null;
    const before = best.i > 0 ? flatSse(a, 0, best.i).mean : fit(a, best.i, best.j).at(a[best.i]!.ts);
    const after = best.j < n ? flatSse(a, best.j, n).mean : fit(a, best.i, best.j).at(a[n - 1]!.ts);
    const start = a[Math.max(0, best.i - 1)]!.ts;
    const end = a[Math.min(n - 1, best.j)]!.ts;
    const volumeL = before - after;
    if (volumeL < this.minL) return null;
    return { start, end, volumeL, rateLph: volumeL / Math.max(1e-3, (end - start) / 3.6e6) };
  }
}
