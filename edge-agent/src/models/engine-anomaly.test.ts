import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { type ModelManifest, modelSigningText } from '@fleet/shared';
import type { Logger } from '@fleet/shared/log';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DriveSample } from '../fuel/drive-log.ts';
import { verifyArtifact } from './artifact.ts';
import { EngineAnomalyDetector } from './engine-anomaly.ts';
import { EngineModel } from './engine-model.ts';
import { loadTf } from './tf.ts';

// The window rules, on a real tfjs network (wasm backend) whose weights are all zero: it always
// "reconstructs" 0, so a sample's error is the mean of its squared z-scores. With features rpm
// (mean 2000, std 1000) and maf_gps (mean 10, std 10), a sample at rpm 2000 and MAF 10 scores 0,
// and MAF 40 scores (3^2 + 0) / 2 = 4.5: errors are chosen, not learned.
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
let models: Record<number, EngineModel>;

async function zeroModel(version: number): Promise<EngineModel> {
  const tf = await loadTf();
  const net = tf.sequential({
    layers: [
      tf.layers.dense({ units: 2, inputShape: [2], kernelInitializer: 'zeros', biasInitializer: 'zeros' }),
    ],
  });
  let saved: { modelTopology: unknown; weightSpecs: unknown; weightData: ArrayBuffer } | null = null;
  await net.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a as never;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  net.dispose();
  const s = saved as unknown as {
    modelTopology: Record<string, unknown>;
    weightSpecs: never;
    weightData: ArrayBuffer;
  };
  const weights = Buffer.from(s.weightData);
  const manifest: ModelManifest = {
    v: 1,
    name: 'engine-anomaly',
    version,
    created: '2026-11-26T23:00:00.000Z',
    vehicleId: null,
    features: [
      { name: 'rpm', mean: 2000, std: 1000 },
      { name: 'maf_gps', mean: 10, std: 10 },
    ],
    gate: { minRpm: 400 },
    window: { ms: 10_000, minSamples: 5 },
    threshold: 1,
    model: { format: 'tfjs-layers', topology: s.modelTopology, weightSpecs: s.weightSpecs },
    weights: { sha256: createHash('sha256').update(weights).digest('hex'), bytes: weights.length },
    training: {},
  };
  const artifact = {
    manifest,
    signature: sign(null, Buffer.from(modelSigningText(manifest)), privateKey).toString('base64'),
    weights: weights.toString('base64'),
  };
  return EngineModel.load(verifyArtifact(JSON.stringify(artifact), publicKey));
}

// tfjs + wasm start in ~2 s; far more on a loaded 2-core machine.
beforeAll(async () => {
  models = { 1: await zeroModel(1), 2: await zeroModel(2) };
}, 60_000);

const T0 = Date.UTC(2024, 4, 1, 8);

/** 1 Hz samples from `fromS` to `toS` (exclusive), MAF from `maf(t)`; rpm 2000 unless given. */
function drive(fromS: number, toS: number, maf: (t: number) => number | null, rpm = 2000): DriveSample[] {
  const out: DriveSample[] = [];
  for (let t = fromS; t < toS; t++) {
    out.push({
      ts: T0 + t * 1000,
      speedKmh: 50,
      rpm,
      fuelLevelPct: 50,
      fuelRateLph: 3,
      mafGps: maf(t),
      lat: 48 + t * 1e-5,
      lon: 11,
      ignition: true,
    });
  }
  return out;
}

/** Everything the detector emitted: anomalies and the daily score summaries. */
function runAll(d: EngineAnomalyDetector, samples: DriveSample[]) {
  const events = samples.flatMap((s) => d.push(s));
  return [...events, ...d.flush()];
}
/** The anomalies only (the daily summaries have their own tests below). */
const run = (d: EngineAnomalyDetector, samples: DriveSample[]) =>
  runAll(d, samples).filter((e) => e.type === 'engine_anomaly');

describe('EngineAnomalyDetector', () => {
  it('flags a sustained fault once, from its first to its last anomalous window, with the model version', () => {
    const d = new EngineAnomalyDetector(() => models[1]!);
    const events = run(
      d,
      drive(0, 120, (t) => (t >= 40 && t < 70 ? 40 : 10)),
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'engine_anomaly',
      start: T0 + 40_000,
      end: T0 + 69_000,
      modelVersion: 'engine-anomaly@1',
      lat: 48 + 40 * 1e-5,
      details: { score: 4.5, threshold: 1, windows: 3, samples: 30 },
    });
    // 4.5x over the threshold: confidence 1 - 1/4.5.
    expect(events[0]!.confidence).toBeCloseTo(0.778, 3);
    expect((events[0]!.details.features as { feature: string }[])[0]!.feature).toBe('maf_gps');
    expect(d.stats).toMatchObject({ windows: 12, anomalousWindows: 3, predicts: 12, scored: 120 });
  });

  it('ignores a spike: one bad sample in a window does not move its median', () => {
    const d = new EngineAnomalyDetector(() => models[1]!);
    expect(
      run(
        d,
        drive(0, 60, (t) => (t === 25 ? 500 : 10)),
      ),
    ).toEqual([]);
  });

  it('does not score engine-off or incomplete samples, and does not judge a window with too few', () => {
    const d = new EngineAnomalyDetector(() => models[1]!);
    // MAF missing for most of every window, engine off for a while: nothing to judge there.
    const samples = [...drive(0, 30, (t) => (t % 10 < 6 ? null : 40)), ...drive(30, 60, () => 40, 0)];
    expect(run(d, samples)).toEqual([]);
    expect(d.stats.windows).toBe(0);
    expect(d.stats.skipped).toBe(60 - 12);
  });

  it('says once when the samples never carry an input the model needs (it cannot score then)', () => {
    const warnings: { missing: string; model: string }[] = [];
    // Only the warning is observed: a logger that records what it is told.
    const log = { warn: (o: { missing: string; model: string }) => warnings.push(o) } as unknown as Logger;
    const d = new EngineAnomalyDetector(() => models[1]!, { log });
    expect(
      run(
        d,
        drive(0, 1400, () => null),
      ),
    ).toEqual([]);
    expect(warnings).toEqual([expect.objectContaining({ missing: 'maf_gps', model: 'engine-anomaly@1' })]);
    expect(d.stats.windows).toBe(0);
  });

  it('reports a lasting fault every 60 s, the follow-ups marked continued', () => {
    const d = new EngineAnomalyDetector(() => models[1]!);
    const events = run(
      d,
      drive(0, 150, () => 40),
    );
    expect(
      events.map((e) => [(e.start - T0) / 1000, (e.end - T0) / 1000, e.details.continued ?? false]),
    ).toEqual([
      [0, 69, false],
      [70, 139, true],
      [140, 149, true],
    ]);
  });

  it('without a model it emits nothing; a model swapped in mid-fault closes the old version first', () => {
    let active: EngineModel | null = null;
    const d = new EngineAnomalyDetector(() => active);
    expect(
      run(
        d,
        drive(0, 30, () => 40),
      ),
    ).toEqual([]);
    expect(d.stats.skipped).toBe(30);
    active = models[1]!;
    const before = drive(30, 55, () => 40).flatMap((s) => d.push(s));
    active = models[2]!;
    const after = run(
      d,
      drive(55, 80, () => 40),
    );
    const events = [...before, ...after];
    expect(events.map((e) => e.modelVersion)).toEqual(['engine-anomaly@1', 'engine-anomaly@2']);
    expect(events[0]!.end).toBeLessThan(events[1]!.start);
  });
});

describe('daily engine scores (predictive maintenance)', () => {
  type Shares = { feature: string; share: number }[];
  const scores = (events: ReturnType<typeof runAll>) => events.filter((e) => e.type === 'engine_scores');

  it('summarises every scored window of the drive at ignition off: count, mean, p95, max and the PIDs that drove them', () => {
    const d = new EngineAnomalyDetector(() => models[1]!);
    // 200 s at MAF 10 (score 0), then 40 s at MAF 40 (4.5) and 10 s at MAF 70 (18), then the
    // ignition goes off: 25 windows, 4 at 4.5, 1 at 18.
    const drive1 = drive(0, 250, (t) => (t < 200 ? 10 : t < 240 ? 40 : 70));
    // The link reconnecting (ignition unknown) first, then nothing answering: ignition off.
    const off = drive(250, 260, () => null, 0).map((s, i) => ({ ...s, ignition: i < 3 ? null : false }));
    const pushed = [...drive1, ...off].flatMap((s) => d.push(s));
    const [summary, ...rest] = scores(pushed);
    expect(rest).toEqual([]);
    // Sent when the ignition went off, not before (the unknown samples did not end the drive).
    const untilUnknown = new EngineAnomalyDetector(() => models[1]!);
    expect(scores([...drive1, ...off.slice(0, 3)].flatMap((s) => untilUnknown.push(s)))).toEqual([]);
    expect(scores(untilUnknown.flush())).toHaveLength(1);
    expect(summary).toMatchObject({
      type: 'engine_scores',
      start: T0,
      end: T0 + 249_000,
      modelVersion: 'engine-anomaly@1',
      details: {
        day: '2024-05-01',
        windows: 25,
        anomalousWindows: 5,
        mean: (4 * 4.5 + 18) / 25,
        // nearest rank: the 24th of 25 sorted scores
        p95: 4.5,
        max: 18,
        threshold: 1,
        reason: 'ignition_off',
      },
    });
    // All the error is the MAF's (rpm sits on its mean): the PID a technician looks at.
    expect((summary!.details.features as Shares)[0]).toEqual({ feature: 'maf_gps', share: 1 });
    // Nothing is left open: flush sends no second summary of the same windows.
    expect(scores(d.flush())).toEqual([]);
  });

  it('names the PID that drove the score from the real reconstruction error shares', () => {
    const d = new EngineAnomalyDetector(() => models[1]!);
    // rpm 4000 (z = 2, squared 4) with MAF 40 (z = 3, squared 9): shares 4/13 and 9/13.
    const [summary] = scores(
      runAll(
        d,
        drive(0, 60, () => 40, 4000),
      ),
    );
    expect(summary!.details.features).toEqual([
      { feature: 'maf_gps', share: 0.692 },
      { feature: 'rpm', share: 0.308 },
    ]);
    expect(summary!.details.reason).toBe('flush');
  });

  it('cuts a drive across midnight UTC into one summary per day, and a model swap into one per version', () => {
    let active = models[1]!;
    const d = new EngineAnomalyDetector(() => active);
    const midnight = Date.UTC(2024, 4, 2);
    const across = drive(0, 120, () => 40).map((s, i) => ({ ...s, ts: midnight - 60_000 + i * 1000 }));
    const events = across.flatMap((s) => d.push(s));
    active = models[2]!;
    events.push(
      ...runAll(
        d,
        drive(0, 30, () => 10).map((s, i) => ({ ...s, ts: midnight + 3_600_000 + i * 1000 })),
      ),
    );
    expect(
      scores(events).map((e) => [e.details.day, e.details.windows, e.modelVersion, e.details.reason]),
    ).toEqual([
      ['2024-05-01', 6, 'engine-anomaly@1', 'day_end'],
      ['2024-05-02', 6, 'engine-anomaly@1', 'model_change'],
      ['2024-05-02', 3, 'engine-anomaly@2', 'flush'],
    ]);
  });
});
