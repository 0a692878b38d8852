/**
 * `fleet-agent model status|rollback|verify|install`: the engine-anomaly model on this vehicle.
 *
 *   model status [--json]                 active and previous versions, the last refusal and why
 *   model rollback [--json]               reactivate the previous version (a running agent swaps
 *                                         within 2 s; the rolled-back version is never taken again)
 *   model verify FILE --model-public-key K [--vehicle V] [--json]
 *                                         exit 0 when this vehicle would accept FILE, 1 with the
 *                                         reason ([E70x]) when not; installs nothing
 *   model install FILE --model-public-key K --vehicle V
 *                                         the same checks, then install and activate (from a USB
 *                                         stick when there is no network)
 *
 * The models live beside the SQLite store (`--db data/agent.db` -> `data/models/`).
 */
import { readFileSync } from 'node:fs';
import { modelVersionLabel } from '@fleet/shared';
import { createLogger } from '@fleet/shared/log';
import { type Command, Option } from 'commander';
import { AgentError, AgentErrorCode, isAgentError } from '../errors.ts';
import { readPublicKey, verifyArtifact } from '../models/artifact.ts';
import { ENGINE_MODEL_NAME, ModelService } from '../models/model-service.ts';
import { type ModelState, ModelStore, modelsDirFor } from '../models/model-store.ts';
import { installedModelKeyFile, resolveModelKeyFile } from './provision.ts';
import { addDbOption } from './sync.ts';

export interface ModelCliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}
const consoleIo: ModelCliIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

/** `--model-public-key`: shared with `run`. */
export function addModelKeyOption(cmd: Command): Command {
  return cmd.addOption(
    new Option(
      '--model-public-key <file>',
      "the model publisher's Ed25519 public key (PEM); artifacts must verify against it",
    ).env('FLEET_MODEL_PUBLIC_KEY'),
  );
}

function addModelsDirOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--models-dir <dir>', 'where the artifacts are kept (default: models/ beside --db)').env(
      'FLEET_MODELS_DIR',
    ),
  );
}

interface VersionInfo {
  version: number;
  label: string;
  created: string | null;
  vehicleId: string | null;
  threshold: number | null;
  features: string[];
  /** false when the stored file no longer parses (status never needs the key to show this much). */
  readable: boolean;
}

function describe(store: ModelStore, version: number | null): VersionInfo | null {
  if (version === null) return null;
  const label = modelVersionLabel({ name: ENGINE_MODEL_NAME, version });
  try {
    const m = JSON.parse(store.readArtifact(ENGINE_MODEL_NAME, version)).manifest;
    return {
      version,
      label,
      created: m.created ?? null,
      vehicleId: m.vehicleId ?? null,
      threshold: m.threshold ?? null,
      features: (m.features ?? []).map((f: { name: string }) => f.name),
      readable: true,
    };
  } catch {
    return { version, label, created: null, vehicleId: null, threshold: null, features: [], readable: false };
  }
}

function storeFor(o: { db: string; modelsDir?: string }): ModelStore {
  return new ModelStore(o.modelsDir ?? modelsDirFor(o.db));
}

export function modelStatus(
  o: { db: string; modelsDir?: string; json?: boolean },
  io: ModelCliIo = consoleIo,
): number {
  const store = storeFor(o);
  const st: ModelState = store.state(ENGINE_MODEL_NAME);
  const doc = {
    dir: store.dir,
    name: ENGINE_MODEL_NAME,
    active: describe(store, st.active),
    previous: describe(store, st.previous),
    activatedAt: st.activatedAt,
    highestInstalled: st.highestInstalled,
    rolledBack: st.rolledBack,
    lastRejected: st.lastRejected,
  };
  if (o.json) {
    io.out(JSON.stringify(doc));
    return 0;
  }
  const line = (v: VersionInfo | null) =>
    v === null
      ? 'none'
      : `${v.label}${v.readable ? ` (created ${v.created}, vehicle ${v.vehicleId ?? 'any'}, features ${v.features.join(', ')})` : ' (file unreadable)'}`;
  io.out(`Active     ${line(doc.active)}${doc.activatedAt ? ` since ${doc.activatedAt}` : ''}`);
  io.out(`Previous   ${line(doc.previous)}`);
  if (doc.rolledBack !== null)
    io.out(
      `Rolled back ${modelVersionLabel({ name: ENGINE_MODEL_NAME, version: doc.rolledBack })} (never taken again)`,
    );
  if (doc.lastRejected) {
    io.out(
      `Last refused ${doc.lastRejected.at} [E${doc.lastRejected.code}] ${doc.lastRejected.reason} (from ${doc.lastRejected.source})`,
    );
  }
  return 0;
}

export function modelRollback(
  o: { db: string; modelsDir?: string; json?: boolean },
  io: ModelCliIo = consoleIo,
): number {
  const store = storeFor(o);
  const st = store.rollback(ENGINE_MODEL_NAME);
  const label = (v: number | null) =>
    v === null ? null : modelVersionLabel({ name: ENGINE_MODEL_NAME, version: v });
  io.out(
    o.json
      ? JSON.stringify({ active: label(st.active), rolledBack: label(st.rolledBack) })
      : `rolled back ${label(st.rolledBack)}; active now ${label(st.active)} (a running agent switches within seconds)`,
  );
  return 0;
}

interface VerifyCliOptions {
  db: string;
  modelsDir?: string;
  modelPublicKey?: string;
  vehicle?: string;
  json?: boolean;
}

function requireKey(o: VerifyCliOptions) {
  const file = resolveModelKeyFile(o.modelPublicKey);
  if (!file) {
    throw new AgentError(
      AgentErrorCode.ModelKeyInvalid,
      `give --model-public-key FILE (or FLEET_MODEL_PUBLIC_KEY), or install one with \`fleet-agent provision --model-public-key FILE\` (looked in ${installedModelKeyFile()})`,
    );
  }
  return readPublicKey(file);
}

function readArtifactFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new AgentError(AgentErrorCode.ModelMalformed, `cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Exit 0: this vehicle would take it; 1: refused, with the reason. Nothing is installed. */
export function modelVerify(file: string, o: VerifyCliOptions, io: ModelCliIo = consoleIo): number {
  const key = requireKey(o);
  try {
    const a = verifyArtifact(readArtifactFile(file), key, { vehicleId: o.vehicle });
    const store = storeFor(o);
    const newer = store.checkVersion(a) === 'new';
    const doc = {
      ok: true,
      version: a.label,
      vehicleId: a.manifest.vehicleId,
      created: a.manifest.created,
      features: a.manifest.features.map((f) => f.name),
      threshold: a.manifest.threshold,
      weightsSha256: a.manifest.weights.sha256,
      alreadyActive: !newer,
    };
    io.out(
      o.json
        ? JSON.stringify(doc)
        : `OK ${doc.version}: signature and checksum verify; ${newer ? 'newer than anything installed here' : 'already active here'}`,
    );
    return 0;
  } catch (err) {
    if (!isAgentError(err)) throw err;
    io.out(
      o.json
        ? JSON.stringify({ ok: false, code: err.code, reason: err.message })
        : `REFUSED [E${err.code}] ${err.message}`,
    );
    return 1;
  }
}

export async function modelInstall(
  file: string,
  o: VerifyCliOptions,
  io: ModelCliIo = consoleIo,
): Promise<number> {
  const key = requireKey(o);
  if (!o.vehicle)
    throw new AgentError(AgentErrorCode.ConfigInvalid, 'give --vehicle ID (the artifact must be for it)');
  const service = new ModelService({
    dir: o.modelsDir ?? modelsDirFor(o.db),
    publicKey: key,
    vehicleId: o.vehicle,
    log: createLogger('model-install', { vehicle: o.vehicle }),
    watchMs: 0,
  });
  const r = await service.offer(readArtifactFile(file), `file:${file}`);
  io.out(
    o.json
      ? JSON.stringify(r)
      : `${r.status === 'installed' ? 'installed and active' : 'already active'}: ${r.version}`,
  );
  return 0;
}

export function registerModelCommands(program: Command, io: ModelCliIo = consoleIo): void {
  const model = program
    .command('model')
    .description('The engine-anomaly model: what is active, roll back, check an artifact file.');
  addModelsDirOption(
    addDbOption(
      model
        .command('status')
        .description('active and previous model versions, the last refusal')
        .option('--json', 'machine-readable output'),
    ),
  ).action((o: { db: string; modelsDir?: string; json?: boolean }) => {
    process.exitCode = modelStatus(o, io);
  });
  addModelsDirOption(
    addDbOption(
      model
        .command('rollback')
        .description('reactivate the previous version; the rolled-back one is refused from then on')
        .option('--json', 'machine-readable output'),
    ),
  ).action((o: { db: string; modelsDir?: string; json?: boolean }) => {
    process.exitCode = modelRollback(o, io);
  });
  addModelKeyOption(
    addModelsDirOption(
      addDbOption(
        model
          .command('verify <file>')
          .description('check signature, checksum, vehicle and version of an artifact file; installs nothing')
          .addOption(
            new Option('--vehicle <id>', 'also check it is for this vehicle').env('FLEET_VEHICLE_ID'),
          )
          .option('--json', 'machine-readable output'),
      ),
    ),
  ).action((file: string, o: VerifyCliOptions) => {
    process.exitCode = modelVerify(file, o, io);
  });
  addModelKeyOption(
    addModelsDirOption(
      addDbOption(
        model
          .command('install <file>')
          .description('verify an artifact file and make it active (a running agent switches within seconds)')
          .addOption(new Option('--vehicle <id>', 'this vehicle').env('FLEET_VEHICLE_ID'))
          .option('--json', 'machine-readable output'),
      ),
    ),
  ).action(async (file: string, o: VerifyCliOptions) => {
    process.exitCode = await modelInstall(file, o, io);
  });
}
