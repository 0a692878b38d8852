/**
 * Fuel-card purchases against the refuels the vehicles themselves detected: the rules, pure
 * (reconcile.ts runs them for a tenant in the database).
 *
 *   fuel_transactions ─┐                                   ┌─ matched:   purchase ≈ tank rise
 *   vehicle_events     ├─ pair (same vehicle, time window, ├─ flagged:   reasons below
 *     (type refuel)    │   distance window) ─ compare ─────┤
 *   telemetry_minute ──┘   (levels before, coverage)       └─ unmatched: nothing to compare with
 *
 * Windows (defaults; domain.md lists the field's): a purchase and a refuel match when the
 * purchase's time is within ±30 min of the refuel's [start, end] (card terminals stamp the payment,
 * which comes after the pumping; Samsara uses ±10 min, Verizon Connect 60 min) and, when both
 * positions are known, the station is within 500 m of where the tank rose (Samsara 100 m, Fleetio
 * 400 m, Verizon 0.5 mi; a station's geocoded address is often 100-300 m off). A refuel in the
 * time window but farther away is still the best explanation of the purchase, and is matched
 * with a `far_from_station` flag rather than silently dropped.
 *
 * Flags (each with a sentence that names the figures):
 *   no_tank_rise             a purchase, the tank level was being recorded, and it did not rise
 *   over_free_volume         purchased more than the tank could take (capacity - level before)
 *   volume_mismatch          purchased and tank rise differ by more than the tolerance
 *   far_from_station         the refuel happened farther from the station than the distance window
 *   refuel_without_purchase  the tank rose and no purchase explains it (a private card, cash)
 *   no_vehicle               the card is not assigned to a vehicle (unmatched, not an accusation)
 *   no_vehicle_data          no refuel and no tank readings around the purchase (unmatched)
 * Tolerance: max(3 L, 10 % of the purchase, 5 % of the tank when known): a tank sender reads to a
 * few % of the tank (PID 2F is 1/255 steps on top of that), and a refuel judged from sloshing
 * readings is a few litres off; tighter than this flags honest drivers.
 *
 * A purchase without a matching refuel is flagged `no_tank_rise` only when the vehicle recorded
 * tank levels around it; with no data (agent offline, events not synced yet) it is `unmatched`:
 * absence of evidence is not evidence of fraud. Each refuel explains at most one purchase
 * (greedy, closest pairs first); a fill paid with two cards shows as a mismatch plus a
 * no_tank_rise, which a person then reads together.
 *
 * A refuel a driver logs in the PWA (refuel_logs) is judged too, after the card purchases: the
 * card is the stronger record, so a logged fill never takes a refuel from a purchase. A log then
 * pairs with a refuel no purchase explains (a fill paid in cash: matched, and that refuel is no
 * longer `refuel_without_purchase`), else with a card purchase of the same vehicle in the window
 * (the same fill logged twice: matched, `volume_mismatch` when the litres disagree), else it is
 * `no_tank_rise` or, without tank readings, unmatched like a purchase.
 */
import { haversineM } from '@fleet/shared';

export type ReconciliationFlag =
  | 'no_tank_rise'
  | 'over_free_volume'
  | 'volume_mismatch'
  | 'far_from_station'
  | 'refuel_without_purchase'
  | 'no_vehicle'
  | 'no_vehicle_data';

export interface Purchase {
  id: number;
  vehicleId: string | null;
  ts: number;
  litres: number;
  lat: number | null;
  lon: number | null;
  cardId: string | null;
  /** Minutes with a tank reading within the time window around the purchase. */
  readingsAround: number;
  /** Lowest tank level in the window before the purchase, litres (null: unknown). */
  levelBeforeL: number | null;
}

export interface Refuel {
  vehicleId: string;
  eventId: number;
  start: number;
  end: number;
  volumeL: number | null;
  lat: number | null;
  lon: number | null;
  levelBeforeL: number | null;
}

/** A refuel a driver logged (refuel_logs): litres and time from the phone, no position. */
export interface DriverLog {
  id: number;
  vehicleId: string;
  ts: number;
  litres: number;
  readingsAround: number;
}

export interface Verdict {
  transactionId: number | null;
  /** The driver-logged refuel this verdict is about (transactionId is then null). */
  refuelLogId?: number | null;
  vehicleId: string | null;
  event: { vehicleId: string; eventId: number } | null;
  status: 'matched' | 'flagged' | 'unmatched';
  flags: ReconciliationFlag[];
  reasons: string[];
  ts: number;
  purchasedL: number | null;
  tankRiseL: number | null;
  freeVolumeL: number | null;
  timeOffsetS: number | null;
  distanceM: number | null;
}

export interface ReconcileOptions {
  /** [1...240] minutes either side of the refuel, default 30. */
  timeWindowMin?: number;
  /** [25...5000] m between station and refuel, default 500. */
  distanceM?: number;
  /** Smallest tolerance, litres (default 3). */
  minToleranceL?: number;
  /** % of the purchase (default 10). */
  tolerancePct?: number;
  /** % of the tank capacity, when known (default 5). */
  tankTolerancePct?: number;
}

const l = (x: number) => `${x.toFixed(1)} L`;

/**
 * The verdicts for these purchases and refuels (the database parts are in
 * db/queries/fuel-reconciliation.ts, run by reconcile.ts). Refuels outside [fromMs, toMs) only
 * serve as partners; they get no verdict of their own.
 */
export function reconcileFuel(
  input: {
    purchases: Purchase[];
    refuels: Refuel[];
    tanks: Map<string, number | null>;
    driverLogs?: DriverLog[];
  },
  opts: ReconcileOptions = {},
  period: { fromMs: number; toMs: number } = { fromMs: -Infinity, toMs: Infinity },
): Verdict[] {
  const windowMs = (opts.timeWindowMin ?? 30) * 60_000;
  const maxDistance = opts.distanceM ?? 500;
  const tolerance = (purchased: number, tank: number | null) =>
    Math.max(
      opts.minToleranceL ?? 3,
      ((opts.tolerancePct ?? 10) / 100) * purchased,
      tank ? ((opts.tankTolerancePct ?? 5) / 100) * tank : 0,
    );

  // Every plausible pair, best first: near the station (or position unknown), then closest in
  // time, then closest in volume.
  const pairs: { p: Purchase; r: Refuel; offsetMs: number; dist: number | null; far: boolean }[] = [];
  // Per vehicle, sorted by start: each purchase looks only at the refuels that can be in its window.
  const refuelsOf = new Map<string, { list: Refuel[]; longestMs: number }>();
  for (const r of input.refuels) {
    const v = refuelsOf.get(r.vehicleId) ?? { list: [], longestMs: 0 };
    v.list.push(r);
    v.longestMs = Math.max(v.longestMs, r.end - r.start);
    refuelsOf.set(r.vehicleId, v);
  }
  for (const v of refuelsOf.values()) v.list.sort((a, b) => a.start - b.start);
  for (const p of input.purchases) {
    const v = p.vehicleId ? refuelsOf.get(p.vehicleId) : undefined;
    if (!v) continue;
    // First refuel that may still overlap: start >= ts - window - the longest refuel.
    let lo = 0;
    let hi = v.list.length;
    const earliest = p.ts - windowMs - v.longestMs;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v.list[mid]!.start < earliest) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < v.list.length && v.list[i]!.start <= p.ts + windowMs; i++) {
      const r = v.list[i]!;
      const offsetMs = p.ts < r.start ? r.start - p.ts : p.ts > r.end ? p.ts - r.end : 0;
      if (offsetMs > windowMs) continue;
      const dist =
        p.lat !== null && p.lon !== null && r.lat !== null && r.lon !== null
          ? haversineM(p.lat, p.lon, r.lat, r.lon)
          : null;
      pairs.push({ p, r, offsetMs, dist, far: dist !== null && dist > maxDistance });
    }
  }
  pairs.sort(
    (a, b) =>
      Number(a.far) - Number(b.far) ||
      a.offsetMs - b.offsetMs ||
      Math.abs(a.p.litres - (a.r.volumeL ?? 0)) - Math.abs(b.p.litres - (b.r.volumeL ?? 0)),
  );
  const matchOf = new Map<number, (typeof pairs)[number]>();
  const usedRefuels = new Set<string>();
  const key = (r: Refuel) => `${r.vehicleId}\u0000${r.eventId}`;
  for (const pair of pairs) {
    if (matchOf.has(pair.p.id) || usedRefuels.has(key(pair.r))) continue;
    matchOf.set(pair.p.id, pair);
    usedRefuels.add(key(pair.r));
  }

  const inPeriod = (ts: number) => ts >= period.fromMs && ts < period.toMs;
  const verdicts: Verdict[] = [];
  for (const p of input.purchases) {
    // Purchases around the period are loaded only to claim their refuels (reconcile.ts).
    if (!inPeriod(p.ts)) continue;
    const flags: ReconciliationFlag[] = [];
    const reasons: string[] = [];
    const flag = (f: ReconciliationFlag, reason: string) => {
      flags.push(f);
      reasons.push(reason);
    };
    const tank = p.vehicleId ? (input.tanks.get(p.vehicleId) ?? null) : null;
    const tol = tolerance(p.litres, tank);
    const m = matchOf.get(p.id);
    const base = {
      transactionId: p.id,
      vehicleId: p.vehicleId,
      ts: p.ts,
      purchasedL: p.litres,
    };
    if (!p.vehicleId) {
      flag(
        'no_vehicle',
        `card ${p.cardId ?? '(no card id)'} is not assigned to a vehicle: nothing to compare with`,
      );
      verdicts.push({
        ...base,
        event: null,
        status: 'unmatched',
        flags,
        reasons,
        tankRiseL: null,
        freeVolumeL: null,
        timeOffsetS: null,
        distanceM: null,
      });
      continue;
    }
    const levelBefore = m?.r.levelBeforeL ?? p.levelBeforeL;
    const free = tank !== null && levelBefore !== null ? Math.max(0, tank - levelBefore) : null;
    if (free !== null && p.litres > free + tol) {
      flag(
        'over_free_volume',
        `purchased ${l(p.litres)} but the tank had room for ${l(free)} (capacity ${l(tank!)}, ${l(levelBefore!)} before)`,
      );
    } else if (free === null && tank !== null && p.litres > tank + tol) {
      flag('over_free_volume', `purchased ${l(p.litres)}, more than the whole tank holds (${l(tank)})`);
    }
    if (m) {
      const rise = m.r.volumeL;
      if (rise !== null && Math.abs(p.litres - rise) > tol) {
        flag(
          'volume_mismatch',
          `purchased ${l(p.litres)}, the tank rose ${l(rise)}: ${l(Math.abs(p.litres - rise))} apart, tolerance ${l(tol)}`,
        );
      }
      if (m.far) {
        flag(
          'far_from_station',
          `the tank rose ${Math.round(m.dist!)} m from the station (window ${maxDistance} m)`,
        );
      }
      verdicts.push({
        ...base,
        event: { vehicleId: m.r.vehicleId, eventId: m.r.eventId },
        status: flags.length ? 'flagged' : 'matched',
        flags,
        reasons,
        tankRiseL: rise,
        freeVolumeL: free,
        timeOffsetS: m.offsetMs / 1000,
        distanceM: m.dist,
      });
      continue;
    }
    if (p.readingsAround > 0) {
      flag(
        'no_tank_rise',
        `no refuel detected within ±${windowMs / 60_000} min of the purchase of ${l(p.litres)}, although the tank level was recorded (${p.readingsAround} min of readings)`,
      );
    }
    const suspicious = flags.length > 0;
    if (!suspicious) {
      flag('no_vehicle_data', 'no refuel detected and no tank readings around the purchase to judge it by');
    }
    verdicts.push({
      ...base,
      event: null,
      status: suspicious ? 'flagged' : 'unmatched',
      flags,
      reasons,
      tankRiseL: null,
      freeVolumeL: free,
      timeOffsetS: null,
      distanceM: null,
    });
  }

  // Driver logs: first the refuels no purchase took (cash), closest in time first; then the card
  // purchases of the same vehicle (the same fill, paid by card).
  const logs = input.driverLogs ?? [];
  const logPairs: { d: DriverLog; r: Refuel; offsetMs: number }[] = [];
  for (const d of logs) {
    for (const r of refuelsOf.get(d.vehicleId)?.list ?? []) {
      if (usedRefuels.has(key(r))) continue;
      const offsetMs = d.ts < r.start ? r.start - d.ts : d.ts > r.end ? d.ts - r.end : 0;
      if (offsetMs <= windowMs) logPairs.push({ d, r, offsetMs });
    }
  }
  logPairs.sort((a, b) => a.offsetMs - b.offsetMs);
  const refuelOfLog = new Map<number, (typeof logPairs)[number]>();
  for (const pair of logPairs) {
    if (refuelOfLog.has(pair.d.id) || usedRefuels.has(key(pair.r))) continue;
    refuelOfLog.set(pair.d.id, pair);
    usedRefuels.add(key(pair.r));
  }
  const purchaseOfLog = new Map<number, { p: Purchase; offsetMs: number }>();
  const usedPurchases = new Set<number>();
  const purchasePairs: { d: DriverLog; p: Purchase; offsetMs: number }[] = [];
  for (const d of logs) {
    if (refuelOfLog.has(d.id)) continue;
    for (const p of input.purchases) {
      if (p.vehicleId !== d.vehicleId) continue;
      const offsetMs = Math.abs(p.ts - d.ts);
      if (offsetMs <= windowMs) purchasePairs.push({ d, p, offsetMs });
    }
  }
  purchasePairs.sort((a, b) => a.offsetMs - b.offsetMs);
  for (const pair of purchasePairs) {
    if (purchaseOfLog.has(pair.d.id) || usedPurchases.has(pair.p.id)) continue;
    purchaseOfLog.set(pair.d.id, pair);
    usedPurchases.add(pair.p.id);
  }
  for (const d of logs) {
    if (!inPeriod(d.ts)) continue;
    const flags: ReconciliationFlag[] = [];
    const reasons: string[] = [];
    const tol = tolerance(d.litres, input.tanks.get(d.vehicleId) ?? null);
    const base = {
      transactionId: null,
      refuelLogId: d.id,
      vehicleId: d.vehicleId,
      ts: d.ts,
      purchasedL: d.litres,
      freeVolumeL: null,
      distanceM: null,
    };
    const m = refuelOfLog.get(d.id);
    const byCard = purchaseOfLog.get(d.id);
    if (m) {
      const rise = m.r.volumeL;
      if (rise !== null && Math.abs(d.litres - rise) > tol) {
        flags.push('volume_mismatch');
        reasons.push(
          `logged ${l(d.litres)}, the tank rose ${l(rise)}: ${l(Math.abs(d.litres - rise))} apart, tolerance ${l(tol)}`,
        );
      }
      verdicts.push({
        ...base,
        event: { vehicleId: m.r.vehicleId, eventId: m.r.eventId },
        status: flags.length ? 'flagged' : 'matched',
        flags,
        reasons,
        tankRiseL: rise,
        timeOffsetS: m.offsetMs / 1000,
      });
      continue;
    }
    if (byCard) {
      const paid = byCard.p.litres;
      if (Math.abs(d.litres - paid) > tol) {
        flags.push('volume_mismatch');
        reasons.push(
          `logged ${l(d.litres)}, the card purchase #${byCard.p.id} says ${l(paid)}: ${l(Math.abs(d.litres - paid))} apart, tolerance ${l(tol)}`,
        );
      }
      const viaCard = matchOf.get(byCard.p.id);
      verdicts.push({
        ...base,
        event: viaCard ? { vehicleId: viaCard.r.vehicleId, eventId: viaCard.r.eventId } : null,
        status: flags.length ? 'flagged' : 'matched',
        flags,
        reasons,
        tankRiseL: viaCard?.r.volumeL ?? null,
        timeOffsetS: byCard.offsetMs / 1000,
      });
      continue;
    }
    if (d.readingsAround > 0) {
      flags.push('no_tank_rise');
      reasons.push(
        `no refuel detected and no card purchase within ±${windowMs / 60_000} min of the logged ${l(d.litres)}, although the tank level was recorded (${d.readingsAround} min of readings)`,
      );
    } else {
      flags.push('no_vehicle_data');
      reasons.push('no refuel detected, no card purchase and no tank readings around the logged refuel');
    }
    verdicts.push({
      ...base,
      event: null,
      status: d.readingsAround > 0 ? 'flagged' : 'unmatched',
      flags,
      reasons,
      tankRiseL: null,
      timeOffsetS: null,
    });
  }

  for (const r of input.refuels) {
    if (usedRefuels.has(key(r)) || r.start < period.fromMs || r.start >= period.toMs) continue;
    verdicts.push({
      transactionId: null,
      vehicleId: r.vehicleId,
      event: { vehicleId: r.vehicleId, eventId: r.eventId },
      status: 'flagged',
      flags: ['refuel_without_purchase'],
      reasons: [
        `the tank rose ${r.volumeL === null ? '(volume unknown)' : l(r.volumeL)} and no fuel-card purchase or driver's log lies within ±${windowMs / 60_000} min`,
      ],
      ts: r.start,
      purchasedL: null,
      tankRiseL: r.volumeL,
      freeVolumeL: null,
      timeOffsetS: null,
      distanceM: null,
    });
  }
  return verdicts;
}
