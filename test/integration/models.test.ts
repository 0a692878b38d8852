/**
 * Issue 5, must-show 3: a model update pushed from the cloud reaches a running agent, is verified
 * and used; corrupted, unsigned, foreign-signed and older artifacts are refused with the reason and
 * the old model stays; rollback returns to the previous version.
 *
 * Real pieces only: firmware-sim drive logs (fast-forward), `fleet-cloud model keygen|train|publish`
 * (buildCli, tfjs on the wasm backend), Mosquitto at 127.0.0.1:1883 under a base topic of this run,
 * and the agent's own ModelService + broker link (model lane) + EngineAnomalyDetector in this process (the
 * agent's detector pipeline is not wired into `fleet-agent run` yet, so a child agent would not
 * show the model being used). Detection is judged on a drive log of another seed and scenario than
 * the one trained on.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../cloud/src/cli/main.ts';
import { migrate } from '../../cloud/src/db/migrate.ts';
import { CloudErrorCode, isCloudError } from '../../cloud/src/errors.ts';
import { publishModelPayload } from '../../cloud/src/models/publisher.ts';
import { readSigningKey, signArtifact } from '../../cloud/src/models/signing.ts';
import {
  createLogger,
  type ModelManifest,
  modelSigningText,
  VehicleEvent,
} from '../../cloud/test/support/reexports.ts';
import {
  MQTT_URL,
  openTestPool,
  POSTGRES_URL,
  requireServices,
  uniqueId,
} from '../../cloud/test/support/services.ts';
import { modelRollback, modelStatus, modelVerify } from '../../edge-agent/src/cli/model.ts';
import { runDetectors } from '../../edge-agent/src/detectors/index.ts';
import { type AgentError, AgentErrorCode, isAgentError } from '../../edge-agent/src/errors.ts';
import { type DriveSample, parseDriveLogCsv } from '../../edge-agent/src/fuel/drive-log.ts';
import { readPublicKey } from '../../edge-agent/src/models/artifact.ts';
import { EngineAnomalyDetector } from '../../edge-agent/src/models/engine-anomaly.ts';
import type { ModelReceiver } from '../../edge-agent/src/models/model-receiver.ts';
import { ModelService, type OfferResult } from '../../edge-agent/src/models/model-service.ts';
import { modelsDirFor } from '../../edge-agent/src/models/model-store.ts';
import { AgentDb } from '../../edge-agent/src/store/agent-db.ts';
import { BrokerLink } from '../../edge-agent/src/sync/broker-link.ts';
import { runFastForward } from '../../firmware-sim/src/csv-log/fast-forward.ts';
import { BUILTIN_SCENARIOS } from '../../firmware-sim/src/scenarios/builtin.ts';
import { parseScenario } from '../../firmware-sim/src/scenarios/format.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'fleet-models-'));
const TENANT = 'acme';
const VEHICLE = 'VAN-7';
const base = uniqueId('models');
const db = path.join(dir, 'agent', 'agent.db');
const file = (name: string) => path.join(dir, name);
const log = createLogger('models-test').child({}, { level: 'silent' });

let service: ModelService;
let agentDb: AgentDb;
let link: BrokerLink;
let receiver: ModelReceiver;
let heldOut: DriveSample[];

/** `fleet-cloud ARGS`; its stdout lines. */
async function cloud(...args: string[]): Promise<string[]> {
  const out: string[] = [];
  await buildCli({ out: (l) => out.push(l), err: () => {} }).parseAsync(['node', 'fleet-cloud', ...args]);
  return out;
}

/** `fleet-agent model status --json`. */
function agentStatus() {
  const out: string[] = [];
  modelStatus({ db, json: true }, { out: (l) => out.push(l), err: () => {} });
  return JSON.parse(out[0]!);
}

/** The receiver's verdict on the next artifact it gets. */
function nextResult(): Promise<OfferResult | Error> {
  return new Promise((resolve) => {
    const off = receiver.onResult((r) => {
      off();
      resolve(r);
    });
  });
}

async function publishRaw(payload: string): Promise<OfferResult | Error> {
  const got = nextResult();
  await publishModelPayload(
    { url: MQTT_URL, baseTopic: base, tenantId: TENANT, vehicleId: VEHICLE },
    payload,
  );
  return got;
}

function driveLog(name: string, seed: number, scenario: string, hours: number): DriveSample[] {
  const out = file(`${name}.csv`);
  runFastForward({
    id: name,
    seed,
    startTimeMs: Date.UTC(2024, 4, 1, 6),
    scenario: parseScenario(structuredClone(BUILTIN_SCENARIOS.find((s) => s.name === scenario)!)),
    hours,
    hz: 1,
    out,
    extraColumns: ['coolant_c'],
  });
  return parseDriveLogCsv(readFileSync(out, 'utf8')).samples;
}

/** Fuel burnt that the air does not explain (a leaking injector), for 3 minutes of driving. */
function injectRichRunning(samples: DriveSample[]): { samples: DriveSample[]; from: number; to: number } {
  const from = samples.find((s) => s.ts > samples[0]!.ts + 3_600_000 && (s.speedKmh ?? 0) > 20)!.ts;
  const to = from + 180_000;
  return {
    from,
    to,
    samples: samples.map((s) =>
      s.ts >= from && s.ts < to && s.fuelRateLph !== null
        ? { ...s, fuelRateLph: s.fuelRateLph * 1.6 + 1 }
        : s,
    ),
  };
}

function detect(samples: DriveSample[], detector = new EngineAnomalyDetector(() => service.engineModel())) {
  const events = samples.flatMap((s) => detector.push(s));
  events.push(...detector.flush());
  for (const e of events) expect(VehicleEvent.safeParse({ id: 1, ...e }).success).toBe(true);
  lastScores = events.filter((e) => e.type === 'engine_scores');
  return events.filter((e) => e.type !== 'engine_scores');
}
/** The daily score summaries (`engine_scores`) the last detect() run emitted besides its anomalies. */
let lastScores: ReturnType<EngineAnomalyDetector['flush']> = [];

beforeAll(async () => {
  await requireServices({ mqtt: true, postgres: true });
  // Trained on an hour of city driving (seed 11); judged on a workday of another seed (parks,
  // cold starts, ignition off) that training never saw.
  driveLog('train', 11, 'none', 1);
  heldOut = driveLog('heldout', 12, 'workday', 3);
  await cloud(
    'model',
    'keygen',
    '--private-key',
    file('publisher.key'),
    '--public-key',
    file('publisher.pub'),
  );
  await cloud('model', 'keygen', '--private-key', file('stranger.key'), '--public-key', file('stranger.pub'));
  service = new ModelService({
    dir: modelsDirFor(db),
    publicKey: readPublicKey(file('publisher.pub')),
    vehicleId: VEHICLE,
    log,
    watchMs: 100,
  });
  await service.start();
  agentDb = new AgentDb(db);
  link = new BrokerLink(
    agentDb,
    // Session expiry 0: the shared broker forgets this run's session when it disconnects.
    {
      url: MQTT_URL,
      tenantId: TENANT,
      vehicleId: VEHICLE,
      baseTopic: base,
      reconnectPeriodMs: 200,
      sessionExpirySec: 0,
    },
    log,
    { models: service },
  );
  receiver = link.models!;
  link.start();
  await receiver.waitSubscribed();
}, 120_000);

afterAll(async () => {
  await link?.stop();
  agentDb?.close();
  service?.stop();
  // Clear the retained artifact so the broker does not keep this run's topic.
  await publishModelPayload(
    { url: MQTT_URL, baseTopic: base, tenantId: TENANT, vehicleId: VEHICLE },
    '',
  ).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('engine-anomaly models from the cloud to a running agent', () => {
  let detector: EngineAnomalyDetector;

  it('keygen keeps the private key mode 600 and never prints it', async () => {
    expect(statSync(file('publisher.key')).mode & 0o777).toBe(0o600);
    const out = await cloud(
      'model',
      'keygen',
      '--private-key',
      file('k3.key'),
      '--public-key',
      file('k3.pub'),
      '--json',
    );
    expect(out.join('\n')).not.toMatch(/PRIVATE KEY/);
    await expect(
      cloud('model', 'keygen', '--private-key', file('k3.key'), '--public-key', file('k3.pub')),
    ).rejects.toThrow(/refusing to overwrite/);
  });

  it('a trained, signed v1 published by the cloud is verified, activated and used by the running agent', async () => {
    expect(service.activeModelVersion()).toBeNull();
    const trained = JSON.parse(
      (
        await cloud(
          'model',
          'train',
          '--vehicle',
          VEHICLE,
          '--csv',
          file('train.csv'),
          '--epochs',
          '15',
          '--version',
          '1',
          '--signing-key',
          file('publisher.key'),
          '--out',
          file('v1.json'),
          '--json',
        )
      )[0]!,
    );
    expect(trained).toMatchObject({
      version: 'engine-anomaly@1',
      features: ['rpm', 'speed_kmh', 'coolant_c', 'fuel_rate_lph', 'maf_gps'],
    });
    expect(trained.bytes).toBeLessThan(8 * 1024); // an 8-4-8 autoencoder: a few KB

    const got = nextResult();
    await cloud(
      'model',
      'publish',
      file('v1.json'),
      '--tenant',
      TENANT,
      '--vehicle',
      VEHICLE,
      '--mqtt-url',
      MQTT_URL,
      '--base-topic',
      base,
    );
    expect(await got).toEqual({ status: 'installed', version: 'engine-anomaly@1' });
    expect(agentStatus()).toMatchObject({ active: { label: 'engine-anomaly@1' }, previous: null });

    // Normal driving it never saw: nothing. The same drive with 3 minutes of rich running: found.
    detector = new EngineAnomalyDetector(() => service.engineModel());
    expect(detect(heldOut)).toEqual([]);
    const normalDay = lastScores.map((e) => e.details);
    const { samples, from, to } = injectRichRunning(heldOut);
    const events = detect(samples);
    // The day's score summary (predictive maintenance): the fault day scores higher at its p95,
    // and the inputs that drove it are the fuel and air readings.
    const faultDay = lastScores.map((e) => e.details);
    console.log(
      `engine_scores p95: normal drive ${normalDay.map((d) => d.p95).join('/')}, fault drive ${faultDay.map((d) => d.p95).join('/')} (threshold ${faultDay[0]?.threshold}); fault top inputs ${JSON.stringify(faultDay[0]?.features)}`,
    );
    expect(normalDay.length).toBeGreaterThan(0);
    expect(faultDay.length).toBeGreaterThan(0);
    expect(Math.max(...faultDay.map((d) => d.p95 as number))).toBeGreaterThan(
      Math.max(...normalDay.map((d) => d.p95 as number)),
    );
    expect(['fuel_rate_lph', 'maf_gps']).toContain(
      (faultDay[0]!.features as { feature: string }[])[0]!.feature,
    );
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) {
      expect(e).toMatchObject({ type: 'engine_anomaly', modelVersion: 'engine-anomaly@1' });
      expect(e.start).toBeGreaterThanOrEqual(from - 10_000);
      expect(e.end).toBeLessThan(to + 10_000);
      expect(e.details.score as number).toBeGreaterThan(e.details.threshold as number);
      // It names the inputs it could not explain: the fuel and air readings.
      expect(['fuel_rate_lph', 'maf_gps']).toContain(
        (e.details.features as { feature: string }[])[0]!.feature,
      );
    }
    const covered = events.reduce((ms, e) => ms + (e.end - e.start), 0);
    expect(covered).toBeGreaterThan(60_000);

    // Not asserted: air the MAF no longer reports (40 % low for 3 min) scores 1.5-3x the
    // threshold in some trainings and under it in others (the seeded training used here): a
    // borderline fault, stated in the README rather than claimed.
  });

  it("the on-vehicle pipeline stamps the active version on every event, the rules' ones too", () => {
    const { samples } = injectRichRunning(heldOut);
    const events = runDetectors(
      samples,
      // A 30 km/h limit in the city: speeding events from the rules, next to the model's.
      { tankLitres: 60, speedLimitKmh: 30 },
      {
        extraDetectors: [new EngineAnomalyDetector(() => service.engineModel())],
        modelVersion: () => service.activeModelVersion(),
      },
    );
    const types = new Set(events.map((e) => e.type));
    expect(types.has('engine_anomaly')).toBe(true);
    expect(types.has('speeding')).toBe(true);
    expect(new Set(events.map((e) => e.modelVersion))).toEqual(new Set(['engine-anomaly@1']));
  });

  it('a newer version is swapped in without a restart: the running detector stamps it next', async () => {
    await cloud(
      'model',
      'train',
      '--vehicle',
      VEHICLE,
      '--csv',
      file('train.csv'),
      '--epochs',
      '12',
      '--version',
      '2',
      '--signing-key',
      file('publisher.key'),
      '--out',
      file('v2.json'),
    );
    const got = nextResult();
    await cloud(
      'model',
      'publish',
      file('v2.json'),
      '--tenant',
      TENANT,
      '--vehicle',
      VEHICLE,
      '--mqtt-url',
      MQTT_URL,
      '--base-topic',
      base,
    );
    expect(await got).toEqual({ status: 'installed', version: 'engine-anomaly@2' });
    expect(agentStatus()).toMatchObject({
      active: { label: 'engine-anomaly@2' },
      previous: { label: 'engine-anomaly@1' },
    });
    // The detector instance from before, fed later data: now under v2.
    const { samples } = injectRichRunning(heldOut);
    const later = samples.map((s) => ({ ...s, ts: s.ts + 86_400_000 }));
    const events = detect(later, detector);
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.modelVersion))).toEqual(new Set(['engine-anomaly@2']));
  });

  it('refuses a flipped weight byte, an unsigned, a foreign-signed, an older and a malformed artifact; v2 stays', async () => {
    const v2 = JSON.parse(readFileSync(file('v2.json'), 'utf8'));
    const newer = { ...v2.manifest, version: 3 };
    const signedBy = (keyFile: string, manifest: unknown) =>
      sign(null, Buffer.from(modelSigningText(manifest)), createPrivateKey(readFileSync(keyFile))).toString(
        'base64',
      );

    const weights = Buffer.from(v2.weights, 'base64');
    weights[17] = (weights[17] ?? 0) ^ 0x10;
    const cases: [string, string, AgentErrorCode, RegExp][] = [
      [
        'flipped weight byte',
        JSON.stringify({
          ...v2,
          manifest: newer,
          signature: signedBy(file('publisher.key'), newer),
          weights: weights.toString('base64'),
        }),
        AgentErrorCode.ModelChecksumMismatch,
        /checksum mismatch/,
      ],
      [
        'unsigned',
        JSON.stringify({ manifest: newer, weights: v2.weights }),
        AgentErrorCode.ModelUnsigned,
        /not signed/,
      ],
      [
        'signed by another key',
        JSON.stringify({
          manifest: newer,
          signature: signedBy(file('stranger.key'), newer),
          weights: v2.weights,
        }),
        AgentErrorCode.ModelBadSignature,
        /signature does not verify/,
      ],
      [
        'older version',
        readFileSync(file('v1.json'), 'utf8'),
        AgentErrorCode.ModelOlderVersion,
        /not newer than 2/,
      ],
      ['malformed', '{"manifest": {"name": "engine-anomaly"', AgentErrorCode.ModelMalformed, /malformed/],
    ];
    for (const [what, payload, code, reason] of cases) {
      const r = await publishRaw(payload);
      expect(isAgentError(r), what).toBe(true);
      expect((r as AgentError).code, what).toBe(code);
      expect((r as Error).message, what).toMatch(reason);
      expect(service.activeModelVersion(), what).toBe('engine-anomaly@2');
      expect(agentStatus(), what).toMatchObject({
        active: { label: 'engine-anomaly@2' },
        lastRejected: { code },
      });
    }
    // The operator's tools refuse the broken ones before they leave: publish and verify.
    writeFileSync(file('unsigned.json'), cases[1]![1]);
    const refused = await cloud(
      'model',
      'publish',
      file('unsigned.json'),
      '--tenant',
      TENANT,
      '--vehicle',
      VEHICLE,
      '--mqtt-url',
      MQTT_URL,
      '--base-topic',
      base,
    ).catch((e) => e);
    expect(isCloudError(refused, CloudErrorCode.ModelArtifactInvalid)).toBe(true);
    const out: string[] = [];
    const exit = modelVerify(
      file('unsigned.json'),
      { db, modelPublicKey: file('publisher.pub'), vehicle: VEHICLE },
      { out: (l) => out.push(l), err: () => {} },
    );
    expect(exit).toBe(1);
    expect(out[0]).toMatch(/^REFUSED \[E701\]/);
  });

  it('`model publish` refuses what every vehicle would refuse: the same check on both sides', async () => {
    const v2 = JSON.parse(readFileSync(file('v2.json'), 'utf8'));
    const key = readSigningKey(file('publisher.key'));
    // Genuinely signed, weights matching their SHA-256: only the shape rules are broken.
    const extraSpec = {
      ...v2.manifest,
      version: 3,
      model: {
        ...v2.manifest.model,
        weightSpecs: [...v2.manifest.model.weightSpecs, { name: 'extra', shape: [4], dtype: 'float32' }],
      },
    };
    const wrongLength = {
      ...v2.manifest,
      version: 3,
      weights: { ...v2.manifest.weights, bytes: v2.manifest.weights.bytes + 4 },
    };
    const cases: [string, ModelManifest, AgentErrorCode, RegExp][] = [
      [
        'weight specs describing more than the weights',
        extraSpec,
        AgentErrorCode.ModelMalformed,
        /weight specs/,
      ],
      ['a byte count the weights do not have', wrongLength, AgentErrorCode.ModelChecksumMismatch, /checksum/],
    ];
    for (const [what, manifest, code, reason] of cases) {
      const text = JSON.stringify(signArtifact(manifest, Buffer.from(v2.weights, 'base64'), key));
      // What a vehicle says when it gets this file.
      const r = await publishRaw(text);
      expect(isAgentError(r, code), `${what}: ${String(r)}`).toBe(true);
      writeFileSync(file('refused.json'), text);
      for (const withKey of [[], ['--public-key', file('publisher.pub')]]) {
        const refused = await cloud(
          'model',
          'publish',
          file('refused.json'),
          '--tenant',
          TENANT,
          '--vehicle',
          VEHICLE,
          '--mqtt-url',
          MQTT_URL,
          '--base-topic',
          base,
          ...withKey,
        ).catch((e: unknown) => e);
        expect(isCloudError(refused, CloudErrorCode.ModelArtifactInvalid), `${what} ${withKey}`).toBe(true);
        expect((refused as Error).message, what).toMatch(reason);
      }
    }
    expect(service.activeModelVersion()).toBe('engine-anomaly@2');
  });

  it('rollback returns to the previous version, in the running agent too; the rolled-back one is not retaken', async () => {
    const out: string[] = [];
    modelRollback({ db, json: true }, { out: (l) => out.push(l), err: () => {} });
    expect(JSON.parse(out[0]!)).toEqual({ active: 'engine-anomaly@1', rolledBack: 'engine-anomaly@2' });
    // The CLI is another process in real life: the running service notices the state file.
    const until = Date.now() + 10_000;
    while (service.activeModelVersion() !== 'engine-anomaly@1' && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    expect(service.activeModelVersion()).toBe('engine-anomaly@1');
    const { samples } = injectRichRunning(heldOut);
    const events = detect(samples.map((s) => ({ ...s, ts: s.ts + 2 * 86_400_000 })));
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.modelVersion))).toEqual(new Set(['engine-anomaly@1']));

    // The broker still holds v2 retained and delivers it at the next reconnect: refused.
    const r = await publishRaw(readFileSync(file('v2.json'), 'utf8'));
    expect(isAgentError(r, AgentErrorCode.ModelOlderVersion)).toBe(true);
    expect((r as Error).message).toMatch(/rolled back/);
    expect(agentStatus()).toMatchObject({ active: { label: 'engine-anomaly@1' }, rolledBack: 2 });
  });

  it('a running `fleet-agent run` takes a published model without a restart; `model rollback` from another process swaps it back', async () => {
    // No vehicle attached (OBD and GPS ports refuse): the daemon runs and retries them, and its
    // sync and model receiver work as on a parked van. Its own vehicle id and database.
    const van = 'VAN-8';
    const agentDir = path.join(dir, 'child');
    const childDb = path.join(agentDir, 'agent.db');
    const bin = path.join(import.meta.dirname, '../../edge-agent/bin/fleet-agent.js');
    // The cloud re-signs the trained v1/v2 weights for this vehicle (the artifact is vehicle-bound).
    const key = readSigningKey(file('publisher.key'));
    const forVan = (f: string) => {
      const a = JSON.parse(readFileSync(file(f), 'utf8'));
      const manifest: ModelManifest = { ...a.manifest, vehicleId: van };
      return JSON.stringify(signArtifact(manifest, Buffer.from(a.weights, 'base64'), key));
    };
    const child: ChildProcess = spawn(
      process.execPath,
      [
        bin,
        'run',
        '--vehicle',
        van,
        '--tenant',
        TENANT,
        '--obd-port',
        'tcp://127.0.0.1:9',
        '--gps-nmea',
        'tcp://127.0.0.1:9',
        '--db',
        childDb,
        '--mqtt-url',
        MQTT_URL,
        '--base-topic',
        base,
        '--model-public-key',
        file('publisher.pub'),
      ],
      { env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let logs = '';
    child.stderr!.on('data', (d) => {
      logs += d;
    });
    const waitLog = async (re: RegExp, ms = 60_000) => {
      const until = Date.now() + ms;
      while (!re.test(logs)) {
        if (Date.now() > until) throw new Error(`agent never logged ${re}; log:\n${logs.slice(-3000)}`);
        if (child.exitCode !== null)
          throw new Error(`agent exited ${child.exitCode}; log:\n${logs.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const agentCli = (...args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          [bin, 'model', ...args, '--db', childDb, '--json'],
          (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
        ),
      );
    try {
      await waitLog(/connected to broker/);
      const target = { url: MQTT_URL, baseTopic: base, tenantId: TENANT, vehicleId: van };
      await publishModelPayload(target, forVan('v1.json'));
      await waitLog(/"version":"engine-anomaly@1".*engine model installed and active/);
      await publishModelPayload(target, forVan('v2.json'));
      await waitLog(/"version":"engine-anomaly@2".*engine model installed and active/);
      expect(JSON.parse(await agentCli('status'))).toMatchObject({
        active: { label: 'engine-anomaly@2', vehicleId: van },
        previous: { label: 'engine-anomaly@1' },
      });
      expect(JSON.parse(await agentCli('rollback'))).toEqual({
        active: 'engine-anomaly@1',
        rolledBack: 'engine-anomaly@2',
      });
      // The daemon (another process) notices and loads v1 again, without a restart.
      await waitLog(/"version":"engine-anomaly@1".*engine model loaded/);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      await publishModelPayload(
        { url: MQTT_URL, baseTopic: base, tenantId: TENANT, vehicleId: van },
        '',
      ).catch(() => {});
    }
  });

  it("trains from the vehicle's telemetry in PostgreSQL, as its tenant (row-level security)", async () => {
    const t = await openTestPool('models');
    try {
      await migrate(t.pool, log);
      const rows = parseDriveLogCsv(readFileSync(file('train.csv'), 'utf8')).samples.slice(0, 1500);
      await t.pool.query('SELECT telemetry_ensure_partitions($1::date[])', [['2024-05-01']]);
      await t.pool.query(
        `INSERT INTO telemetry (tenant_id, vehicle_id, seq, ts, speed_kmh, rpm, coolant_c)
         SELECT $1, $2, s, to_timestamp(t / 1000.0), sp, r, c
           FROM unnest($3::bigint[], $4::float8[], $5::real[], $6::real[], $7::real[]) AS u(s, t, sp, r, c)`,
        [
          TENANT,
          VEHICLE,
          rows.map((_, i) => i + 1),
          rows.map((s) => s.ts),
          rows.map((s) => s.speedKmh),
          rows.map((s) => s.rpm),
          rows.map((s) => s.coolantC ?? null),
        ],
      );
      const dbArgs = ['--database-url', POSTGRES_URL, '--schema', t.schema];
      const trained = JSON.parse(
        (
          await cloud(
            ...dbArgs,
            'model',
            'train',
            '--tenant',
            TENANT,
            '--vehicle',
            VEHICLE,
            '--epochs',
            '3',
            '--signing-key',
            file('publisher.key'),
            '--out',
            file('pg.json'),
            '--json',
          )
        )[0]!,
      );
      // The telemetry table has no fuel rate or MAF columns (yet): the model uses what it has.
      expect(trained.features).toEqual(['rpm', 'speed_kmh', 'coolant_c']);
      expect(trained.rows).toBeGreaterThan(1000);
      const out: string[] = [];
      expect(
        modelVerify(
          file('pg.json'),
          { db, modelPublicKey: file('publisher.pub'), vehicle: VEHICLE },
          { out: (l) => out.push(l), err: () => {} },
        ),
      ).toBe(0);
      // Only what the vehicle polls live: a model needs every input on every sample.
      const picked = JSON.parse(
        (
          await cloud(
            ...dbArgs,
            'model',
            'train',
            '--tenant',
            TENANT,
            '--vehicle',
            VEHICLE,
            '--epochs',
            '2',
            '--features',
            'rpm,coolant_c',
            '--signing-key',
            file('publisher.key'),
            '--out',
            file('pg2.json'),
            '--json',
          )
        )[0]!,
      );
      expect(picked.features).toEqual(['rpm', 'coolant_c']);
      const unknown = await cloud(
        ...dbArgs,
        'model',
        'train',
        '--tenant',
        TENANT,
        '--vehicle',
        VEHICLE,
        '--features',
        'rpm,boost_kpa',
        '--signing-key',
        file('publisher.key'),
        '--out',
        file('pg3.json'),
      ).catch((e) => e);
      expect(isCloudError(unknown, CloudErrorCode.ConfigInvalid)).toBe(true);
      // Another tenant's session sees none of this vehicle's rows.
      const other = await cloud(
        ...dbArgs,
        'model',
        'train',
        '--tenant',
        'other',
        '--vehicle',
        VEHICLE,
        '--epochs',
        '3',
        '--signing-key',
        file('publisher.key'),
        '--out',
        file('pg-other.json'),
      ).catch((e) => e);
      expect(isCloudError(other, CloudErrorCode.ModelTraining)).toBe(true);
      expect((other as Error).message).toMatch(/has 0/);
    } finally {
      await t.drop();
    }
  });
});
