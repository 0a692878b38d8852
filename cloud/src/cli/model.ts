/**
 * `fleet-cloud model keygen|train|publish`: the engine-anomaly models vehicles run.
 *
 *   model keygen --private-key F --public-key F      Ed25519 pair; private key mode 600, never printed
 *   model train --vehicle V (--tenant T | --csv LOG) --signing-key F --out FILE
 *                                                    autoencoder on the vehicle's normal driving
 *                                                    (its telemetry, under RLS, or a CSV drive log),
 *                                                    threshold from held-out data, signed artifact
 *   model publish FILE --tenant T --vehicle V        retained, QoS 1, on {base}/v1/T/V/model
 *                                                    (MQTT_URL, MQTT_USERNAME, MQTT_PASSWORD)
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { MODEL_FEATURES, type ModelFeature, modelVersionLabel } from '@fleet/shared';
import { createLogger } from '@fleet/shared/log';
import type { Command } from 'commander';
import { loadCliConfig } from '../config.ts';
import { openPool } from '../db/pool.ts';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { publishModel } from '../models/publisher.ts';
import { generateSigningKeys, readPublicKey, readSigningKey, signArtifact } from '../models/signing.ts';
import { trainEngineModel } from '../models/train.ts';
import { readTelemetry, readTrainingCsv, type TrainingData } from '../models/training-data.ts';
import type { CliIo } from './io.ts';

function int(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n))
    throw new CloudError(CloudErrorCode.ConfigInvalid, `${name} must be an integer: ${text}`);
  return n;
}

function features(text: string | undefined): ModelFeature[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(',').map((f) => f.trim());
  for (const f of list) {
    if (!(MODEL_FEATURES as readonly string[]).includes(f)) {
      throw new CloudError(
        CloudErrorCode.ConfigInvalid,
        `unknown feature "${f}" (known: ${MODEL_FEATURES.join(', ')})`,
      );
    }
  }
  return list as ModelFeature[];
}

function time(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new CloudError(CloudErrorCode.ConfigInvalid, `${name} must be an ISO 8601 time: ${text}`);
  return t;
}

interface TrainCliOptions {
  vehicle: string;
  tenant?: string;
  csv?: string;
  since?: string;
  until?: string;
  limit?: string;
  epochs?: string;
  version?: string;
  features?: string;
  signingKey: string;
  out: string;
  json?: boolean;
}

export function registerModelCommands(program: Command, io: CliIo): void {
  const env = loadCliConfig();
  const model = program
    .command('model')
    .description('engine-anomaly models: signing keys, training on a vehicle, publishing to it');

  model
    .command('keygen')
    .description('make the Ed25519 key pair that signs model artifacts (vehicles get the public key)')
    .requiredOption('--private-key <file>', 'where to write the private key (mode 600; keep it off vehicles)')
    .requiredOption('--public-key <file>', 'where to write the public key (fleet-agent --model-public-key)')
    .option('--force', 'replace an existing private key (every vehicle must then get the new public key)')
    .option('--json', 'one JSON document')
    .action((o: { privateKey: string; publicKey: string; force?: boolean; json?: boolean }) => {
      const r = generateSigningKeys(o.privateKey, o.publicKey, o.force);
      io.out(
        o.json
          ? JSON.stringify(r)
          : `key id ${r.keyId}: private key ${r.privateKeyFile} (mode 600), public key ${r.publicKeyFile}`,
      );
    });

  model
    .command('train')
    .description(
      "train the engine-anomaly autoencoder on one vehicle's normal driving and write a signed artifact",
    )
    .requiredOption('--vehicle <id>', 'the vehicle (its own data; the artifact is bound to it)')
    .option('--tenant <id>', "the vehicle's tenant: read its telemetry from the database (under RLS)")
    .option('--csv <file>', 'read a CSV drive log instead of the database')
    .option('--since <iso>', 'telemetry from this time')
    .option('--until <iso>', 'telemetry before this time')
    .option('--limit <n>', 'newest telemetry rows at most', '200000')
    .option('--epochs <n>', 'training epochs [1...500]', '40')
    .option('--version <n>', 'artifact version (default: UTC time as YYYYMMDDHHMMSS)')
    .option(
      '--features <list>',
      `inputs, comma-separated, from ${MODEL_FEATURES.join(',')} (default: all the data has); only what the vehicle polls live`,
    )
    .requiredOption('--signing-key <file>', 'Ed25519 private key from `model keygen`')
    .requiredOption('--out <file>', 'artifact file to write')
    .option('--json', 'one JSON document')
    .action(async (o: TrainCliOptions, cmd: Command) => {
      const key = readSigningKey(o.signingKey); // before minutes of work, not after
      let data: TrainingData;
      if (o.csv) data = readTrainingCsv(o.csv);
      else {
        if (!o.tenant)
          throw new CloudError(CloudErrorCode.ConfigInvalid, 'give --tenant (database) or --csv FILE');
        const g = { ...program.opts(), ...cmd.opts() } as { databaseUrl: string; schema?: string };
        const pool = await openPool({ url: g.databaseUrl, schema: g.schema, max: 2 });
        try {
          data = await readTelemetry(pool, {
            tenantId: o.tenant,
            vehicleId: o.vehicle,
            since: time('--since', o.since),
            until: time('--until', o.until),
            limit: int('--limit', o.limit),
          });
        } finally {
          await pool.end();
        }
      }
      const started = performance.now();
      const trained = await trainEngineModel(data, {
        vehicleId: o.vehicle,
        epochs: int('--epochs', o.epochs),
        version: int('--version', o.version),
        features: features(o.features),
      });
      const text = `${JSON.stringify(signArtifact(trained.manifest, trained.weights, key))}\n`;
      const tmp = `${o.out}.tmp-${process.pid}`;
      writeFileSync(tmp, text);
      renameSync(tmp, o.out);
      const m = trained.manifest;
      const doc = {
        file: o.out,
        version: modelVersionLabel(m),
        features: m.features.map((f) => f.name),
        threshold: m.threshold,
        rows: m.training.rows,
        skippedRows: data.skipped,
        bytes: Buffer.byteLength(text),
        trainMs: Math.round(performance.now() - started),
      };
      createLogger('model-train').info(doc, 'model trained');
      io.out(
        o.json
          ? JSON.stringify(doc)
          : `${doc.version} -> ${doc.file} (${doc.bytes} bytes): features ${doc.features.join(', ')}; threshold ${doc.threshold.toPrecision(4)} from ${doc.rows} rows in ${doc.trainMs} ms`,
      );
    });

  model
    .command('publish <file>')
    .description('send a signed artifact to a vehicle (retained, QoS 1); it installs it without a restart')
    .requiredOption('--tenant <id>', "the vehicle's tenant")
    .requiredOption('--vehicle <id>', 'the vehicle')
    .option('--mqtt-url <url>', 'broker', env.mqttUrl)
    .option('--base-topic <topic>', 'MQTT base topic', env.baseTopic)
    .option('--public-key <file>', 'also check the signature against this public key before sending')
    .option('--json', 'one JSON document')
    .action(
      async (
        file: string,
        o: {
          tenant: string;
          vehicle: string;
          mqttUrl: string;
          baseTopic: string;
          publicKey?: string;
          json?: boolean;
        },
      ) => {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          throw new CloudError(
            CloudErrorCode.ModelArtifactInvalid,
            `cannot read ${file}: ${(err as Error).message}`,
          );
        }
        const publicKey = o.publicKey ? readPublicKey(o.publicKey) : undefined;
        const r = await publishModel(
          {
            url: o.mqttUrl,
            // Credentials only from the environment: a flag would show in `ps`.
            username: env.mqttUsername,
            password: env.mqttPassword,
            baseTopic: o.baseTopic,
            tenantId: o.tenant,
            vehicleId: o.vehicle,
          },
          text,
          publicKey,
        );
        io.out(
          o.json ? JSON.stringify(r) : `published ${r.version} (${r.bytes} bytes) retained on ${r.topic}`,
        );
      },
    );
}
