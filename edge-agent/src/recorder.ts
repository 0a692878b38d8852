/**
 *   GPS fix (one per epoch) ──┐          (+ GPS odometer, gps-odometer.ts)
 *                             ├─▶ SampleRecorder ──append──▶ SampleOutbox (SQLite) ──▶ TelemetryLane
 *   ObdPoller.latest ─────────┘         │
 *                                       └──DriveSample──▶ LiveDetectors ──▶ EventOutbox ──▶ EventLane
 *
 * One sample per GPS epoch: the fix's time (GPS time, right even when the Pi has no RTC, see
 * gps/clock.ts) and position, joined with the newest OBD-II readings. The sample is stored before
 * anything else sees it; the detectors get it after.
 */
import type { Logger } from '@fleet/shared/log';
import type { LiveDetectors } from './fuel/live.ts';
import type { SampleClock } from './gps/clock.ts';
import type { GpsFix } from './gps/nmea/rmc.ts';
import { GpsOdometer } from './gps-odometer.ts';
import type { ObdPoller } from './obd/obd-poller.ts';
import type { SampleOutbox } from './store/sample-outbox.ts';

export class SampleRecorder {
  /** The newest recorded position (for events that are not made from samples). */
  lastPosition: { lat: number; lon: number } | null = null;
  private readonly gpsOdometer: GpsOdometer;

  constructor(
    private readonly clock: SampleClock,
    private readonly obd: Pick<ObdPoller, 'latest' | 'state' | 'fuelRateLph'>,
    private readonly samples: SampleOutbox,
    private readonly detectors: LiveDetectors,
    private readonly log: Logger,
  ) {
    this.gpsOdometer = new GpsOdometer(samples.lastGpsDistanceM());
  }

  /** One GPS epoch: a sample in SQLite, then through the detectors. */
  record(fix: GpsFix): void {
    // A receiver repeating an epoch (or a clock step back) must not create a second sample.
    const ts = this.clock.stampFix(fix);
    if (ts === null) {
      this.log.debug({ ts: fix.ts }, 'GPS epoch not newer than the last; skipped');
      return;
    }
    const obd = this.obd.latest;
    const speedKmh = obd.speedKmh ?? fix.speedKmh;
    const sample = {
      ts,
      lat: fix.lat,
      lon: fix.lon,
      speedKmh,
      rpm: obd.rpm,
      fuelLevelPct: obd.fuelLevelPct,
      coolantC: obd.coolantC,
    };
    // The OBD speed, when there is one, is what tells a parked vehicle's GPS wander from driving.
    const gpsDistanceM =
      fix.lat === null ? null : this.gpsOdometer.advance({ ts, lat: fix.lat, lon: fix.lon, speedKmh });
    this.samples.append({ ...sample, odometerKm: obd.odometerKm, gpsDistanceM });
    if (fix.lat !== null && fix.lon !== null) this.lastPosition = { lat: fix.lat, lon: fix.lon };
    // Ignition from the link: no vehicle answering is ignition off (the GPS speed fills the
    // stored sample, but must not make a silent ECU look awake); unknown while reconnecting.
    const st = this.obd.state;
    const ignition = st === 'polling' ? true : st === 'no-vehicle' ? false : null;
    this.detectors.push({ ...sample, fuelRateLph: this.obd.fuelRateLph, mafGps: null, ignition });
  }
}
