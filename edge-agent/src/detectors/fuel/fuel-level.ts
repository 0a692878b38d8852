import type { DriveSample } from '../../fuel/drive-log.ts';
import { TankCalibration } from '../../fuel/tank.ts';
import type { DetectedEvent, Detector, ResolvedDetectorConfig } from '../detector.ts';
import { round } from '../event.ts';
import type { ModeTracker } from '../vehicle-mode.ts';
import { FuelBalance } from './balance.ts';
import { type LeakFinding, LeakTracker } from './leak.ts';
import { LevelEstimator } from './level-estimator.ts';
import { FuelSteps, type Position } from './steps.ts';

/**
 * Refuels, drains and slow leaks from the tank level, reconciled with what the engine burned:
 *
 *   sample -> FuelBalance (tank litres + engine litres) -> LevelEstimator (quiet estimates)
 *          -> FuelSteps (refuel / drain state machine) and LeakTracker (slow slope)
 */
export class FuelLevelDetector implements Detector {
  private readonly balance: FuelBalance;
  private readonly level: LevelEstimator;
  private readonly steps: FuelSteps;
  private readonly leak: LeakTracker;
  private readonly lastPos: Position = { lat: null, lon: null };
  /** Refuels minus drains reported so far: taken out of the balance the leak tracker sees. */
  private stepsL = 0;

  constructor(
    private readonly cfg: ResolvedDetectorConfig,
    private readonly mode: ModeTracker,
  ) {
    const tank = new TankCalibration(cfg.tankLitres, cfg.calibration);
    const stepL = tank.maxStepLitres();
    this.balance = new FuelBalance(mode, cfg.fuelType, cfg.idleLph);
    this.level = new LevelEstimator(mode, tank, this.balance, stepL);
    this.leak = new LeakTracker(cfg.leakMinLph, cfg.leakMinL);
    this.steps = new FuelSteps(cfg, mode, this.level, stepL, this.lastPos, (deltaL) => {
      this.stepsL += deltaL;
      this.leak.reset();
      this.level.resetTrip();
    });
  }

  push(s: DriveSample): DetectedEvent[] {
    const out: DetectedEvent[] = [];
    this.balance.update(s);
    if (s.lat !== null && s.lon !== null) {
      this.lastPos.lat = s.lat;
      this.lastPos.lon = s.lon;
    }
    if (this.mode.mode !== 'moving') this.steps.noteStanding();
    const { endOpen, gap, est } = this.level.push(s);
    if (endOpen) this.steps.closeOpen(out);
    if (gap) this.steps.noteGap();
    if (est) {
      this.steps.judge(est, s, out);
      if (!this.steps.judging) {
        const leak = this.leak.push(est.ts, est.balance - this.stepsL);
        if (leak) this.emitLeak(leak, out);
      }
    }
    return out;
  }

  flush(): DetectedEvent[] {
    const out: DetectedEvent[] = [];
    this.steps.closeOpen(out);
    const leak = this.leak.flush();
    if (leak) this.emitLeak(leak, out);
    return out;
  }

  private emitLeak(leak: LeakFinding, out: DetectedEvent[]): void {
    out.push({
      type: 'fuel_leak',
      start: leak.start,
      end: leak.end,
      volumeL: round(leak.volumeL, 2),
      lat: this.lastPos.lat,
      lon: this.lastPos.lon,
      driverId: this.cfg.driverId,
      confidence: round(Math.min(0.95, 0.5 + 0.1 * Math.log2(leak.volumeL / this.cfg.leakMinL + 1)), 3),
      modelVersion: null,
      details: { rateLph: round(leak.rateLph, 3), durationS: Math.round((leak.end - leak.start) / 1000) },
    });
  }
}
