import { haversineM } from '@fleet/shared';
import { type DetectorConfig, ModeTracker, resolveConfig, runDetectors } from '../detectors/index.ts';
import type { DriveSample } from './drive-log.ts';
import { engineFuelLph, mafToLph } from './engine-fuel.ts';
import { TankCalibration } from './tank.ts';

/**
 * Consumption figures for a log (or a day of the live agent's samples) that stay right across
 * refuels: the engine's own count (fuel rate, else MAF) when the ECU gives it for most of the
 * running time; otherwise the tank's, Wialon's formula level(start) - level(end) + refuels -
 * drains, with refuels and drains from the same detectors (a naive "sum of drops" goes negative
 * after a refuel, Traccar's users' top complaint).
 */
export interface ConsumptionSummary {
  samples: number;
  /** Kilometres: odometer (PID A6) when the log has it, else speed over time, else GPS track. */
  distanceKm: number;
  distanceSource: 'odometer' | 'speed' | 'gps' | 'none';
  engineHours: number;
  drivingHours: number;
  idleHours: number;
  /** The figure the ratios use. */
  litresUsed: number | null;
  litresSource: 'fuel_rate' | 'maf' | 'tank' | 'none';
  /** Integrated fuel rate / MAF (idle L/h where neither): null when under 80 % of the running time. */
  engineLitres: number | null;
  /** Share of engine-running time with a fuel rate or MAF value. */
  engineCoverage: number;
  /** From the tank level with refuels and drains accounted; null without level readings. */
  tankLitres: number | null;
  refuelL: number;
  drainL: number;
  idleLitres: number;
  lPer100Km: number | null;
  /** US miles per US gallon. */
  mpgUs: number | null;
  idleLph: number | null;
}

const round = (v: number, d: number): number => Math.round(v * 10 ** d) / 10 ** d;
/** Steps longer than this (a gap in the log) do not count towards distance or fuel. */
const MAX_STEP_S = 60;

function medianOf(values: number[]): number | null {
  if (!values.length) return null;
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

export function summarizeConsumption(
  samples: readonly DriveSample[],
  config: DetectorConfig,
): ConsumptionSummary {
  const cfg = resolveConfig(config);
  const mode = new ModeTracker();
  const tank = new TankCalibration(cfg.tankLitres, cfg.calibration);
  let speedKm = 0;
  let gpsKm = 0;
  let firstOdo: number | null = null;
  let lastOdo: number | null = null;
  let engineS = 0;
  let drivingS = 0;
  let idleS = 0;
  let coveredS = 0;
  let engineL = 0;
  let idleL = 0;
  let mafOnly = true;
  let prev: DriveSample | null = null;
  let prevLph = 0;
  let prevRunning = false;
  let prevMode: string = 'off';
  const levels: { ts: number; l: number }[] = [];
  for (const s of samples) {
    mode.update(s);
    const dt = prev ? (s.ts - prev.ts) / 1000 : 0;
    if (prev && dt > 0 && dt <= MAX_STEP_S) {
      // The step just ended is accounted at the state known at its start.
      if (prevRunning) {
        engineS += dt;
        engineL += (prevLph * dt) / 3600;
        if (prevMode === 'idle') {
          idleS += dt;
          idleL += (prevLph * dt) / 3600;
        }
        if (prev.fuelRateLph !== null || prev.mafGps !== null) coveredS += dt;
        if (prev.fuelRateLph !== null) mafOnly = false;
      }
      if (prevMode === 'moving') drivingS += dt;
      if (prev.speedKmh !== null && s.speedKmh !== null)
        speedKm += ((prev.speedKmh + s.speedKmh) / 2) * (dt / 3600);
    }
    if (prev && prev.lat !== null && prev.lon !== null && s.lat !== null && s.lon !== null) {
      const d = haversineM(prev.lat, prev.lon, s.lat, s.lon) / 1000;
      // A jump faster than 250 km/h is a bad fix, not travel.
      if (dt > 0 && d / (dt / 3600) < 250) gpsKm += d;
    }
    if (s.odometerKm !== undefined && s.odometerKm !== null) {
      firstOdo ??= s.odometerKm;
      lastOdo = s.odometerKm;
    }
    if (s.fuelLevelPct !== null) levels.push({ ts: s.ts, l: tank.litres(s.fuelLevelPct) });
    const running = mode.engineRunning;
    const lph = engineFuelLph(s, running, mode.mode === 'moving', cfg.fuelType, cfg.idleLph);
    prevLph = lph ?? (running ? prevLph : 0);
    if (s.fuelRateLph === null && s.mafGps !== null) prevLph = mafToLph(s.mafGps, cfg.fuelType);
    prevRunning = running;
    prevMode = mode.mode;
    prev = s;
  }
  const events = runDetectors(samples, config);
  const refuelL = events.filter((e) => e.type === 'refuel').reduce((a, e) => a + (e.volumeL ?? 0), 0);
  const drainL = events
    .filter((e) => e.type === 'fuel_drain' || e.type === 'fuel_leak')
    .reduce((a, e) => a + (e.volumeL ?? 0), 0);
  // Tank figure from the first and last two minutes of readings (medians: slosh cancels out).
  const first = levels[0];
  const last = levels[levels.length - 1];
  const startL = first ? medianOf(levels.filter((x) => x.ts <= first.ts + 120_000).map((x) => x.l)) : null;
  const endL = last ? medianOf(levels.filter((x) => x.ts >= last.ts - 120_000).map((x) => x.l)) : null;
  const tankLitres =
    startL !== null && endL !== null && levels.length >= 2 ? startL - endL + refuelL - drainL : null;
  const coverage = engineS > 0 ? coveredS / engineS : 0;
  const engineLitres = coverage >= 0.8 ? engineL : null;
  let litresUsed: number | null = null;
  let litresSource: ConsumptionSummary['litresSource'] = 'none';
  if (engineLitres !== null) {
    litresUsed = engineLitres;
    litresSource = mafOnly ? 'maf' : 'fuel_rate';
  } else if (tankLitres !== null) {
    litresUsed = Math.max(0, tankLitres);
    litresSource = 'tank';
  }
  let distanceKm = 0;
  let distanceSource: ConsumptionSummary['distanceSource'] = 'none';
  if (firstOdo !== null && lastOdo !== null && lastOdo > firstOdo) {
    distanceKm = lastOdo - firstOdo;
    distanceSource = 'odometer';
  } else if (speedKm > 0) {
    distanceKm = speedKm;
    distanceSource = 'speed';
  } else if (gpsKm > 0) {
    distanceKm = gpsKm;
    distanceSource = 'gps';
  }
  const lPer100Km = litresUsed !== null && distanceKm >= 1 ? (litresUsed / distanceKm) * 100 : null;
  return {
    samples: samples.length,
    distanceKm: round(distanceKm, 3),
    distanceSource,
    engineHours: round(engineS / 3600, 3),
    drivingHours: round(drivingS / 3600, 3),
    idleHours: round(idleS / 3600, 3),
    litresUsed: litresUsed === null ? null : round(litresUsed, 3),
    litresSource,
    engineLitres: engineLitres === null ? null : round(engineLitres, 3),
    engineCoverage: round(coverage, 3),
    tankLitres: tankLitres === null ? null : round(tankLitres, 2),
    refuelL: round(refuelL, 2),
    drainL: round(drainL, 2),
    idleLitres: round(idleL, 3),
    lPer100Km: lPer100Km === null ? null : round(lPer100Km, 2),
    mpgUs: lPer100Km === null || lPer100Km === 0 ? null : round(235.214583 / lPer100Km, 2),
    idleLph: idleS >= 60 ? round(idleL / (idleS / 3600), 3) : null,
  };
}
