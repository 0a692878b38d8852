/**
 * Verified model artifacts on the vehicle's disk, beside the SQLite store:
 *
 *   <db dir>/models/<name>/state.json      { active, previous, highestInstalled, rolledBack, lastRejected }
 *   <db dir>/models/<name>/<version>.json  the artifact exactly as received (signature included)
 *
 * Every write is a temporary file, fsync, rename, fsync of the folder: a power cut leaves the old
 * state or the new one, never half a file. Only the active and the previous artifact are kept.
 * `highestInstalled` never goes down (not even by rollback): it is what refuses a replayed old
 * artifact, and the retained copy of a rolled-back one that the broker delivers at every reconnect.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { VerifiedArtifact } from './artifact.ts';

const Rejection = z.object({
  at: z.string(),
  code: z.number().int(),
  reason: z.string(),
  source: z.string(),
});
export type ModelRejection = z.infer<typeof Rejection>;

const ModelState = z.object({
  active: z.number().int().nullable(),
  previous: z.number().int().nullable(),
  highestInstalled: z.number().int(),
  rolledBack: z.number().int().nullable(),
  activatedAt: z.string().nullable(),
  lastRejected: Rejection.nullable(),
});
export type ModelState = z.infer<typeof ModelState>;

const EMPTY: ModelState = {
  active: null,
  previous: null,
  highestInstalled: 0,
  rolledBack: null,
  activatedAt: null,
  lastRejected: null,
};

/** The models folder for a database file: `data/agent.db` -> `data/models`. */
export function modelsDirFor(dbPath: string): string {
  return path.join(path.dirname(path.resolve(dbPath)), 'models');
}

function storeFailed(what: string, err: unknown): AgentError {
  return new AgentError(AgentErrorCode.ModelStoreFailed, `model store: ${what}: ${(err as Error).message}`, {
    cause: err,
  });
}

/** tmp + fsync + rename + fsync(dir). */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export type InstallResult = { status: 'installed'; previous: number | null } | { status: 'unchanged' };

export class ModelStore {
  constructor(readonly dir: string) {}

  private folder(name: string): string {
    return path.join(this.dir, name);
  }

  private stateFile(name: string): string {
    return path.join(this.folder(name), 'state.json');
  }

  artifactFile(name: string, version: number): string {
    return path.join(this.folder(name), `${version}.json`);
  }

  state(name: string): ModelState {
    const file = this.stateFile(name);
    if (!existsSync(file)) return { ...EMPTY };
    try {
      return ModelState.parse(JSON.parse(readFileSync(file, 'utf8')));
    } catch (err) {
      throw storeFailed(`${file} is unreadable`, err);
    }
  }

  private writeState(name: string, state: ModelState): void {
    try {
      mkdirSync(this.folder(name), { recursive: true });
      writeAtomic(this.stateFile(name), `${JSON.stringify(state, null, 2)}\n`);
    } catch (err) {
      throw storeFailed(`cannot write ${this.stateFile(name)}`, err);
    }
  }

  readArtifact(name: string, version: number): string {
    const file = this.artifactFile(name, version);
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw storeFailed(`cannot read ${file}`, err);
    }
  }

  /**
   * Throws ModelOlderVersion unless the version is above every one installed here; the same
   * version as the active one (a retained message delivered again) is `unchanged`, not an error.
   */
  checkVersion(a: VerifiedArtifact): 'new' | 'unchanged' {
    const { name, version } = a.manifest;
    const st = this.state(name);
    if (version === st.active && existsSync(this.artifactFile(name, version))) {
      if (this.readArtifact(name, version) === a.text) return 'unchanged';
    }
    if (version === st.rolledBack) {
      throw new AgentError(
        AgentErrorCode.ModelOlderVersion,
        `model artifact refused: ${a.label} was rolled back on this vehicle; publish a newer version`,
      );
    }
    if (version <= st.highestInstalled) {
      throw new AgentError(
        AgentErrorCode.ModelOlderVersion,
        `model artifact refused: version ${version} is not newer than ${st.highestInstalled}, the highest installed here (active ${st.active ?? 'none'})`,
      );
    }
    return 'new';
  }

  /** Keeps the artifact and makes it active; the active one becomes previous. */
  install(a: VerifiedArtifact, now = new Date()): InstallResult {
    if (this.checkVersion(a) === 'unchanged') return { status: 'unchanged' };
    const { name, version } = a.manifest;
    const st = this.state(name);
    try {
      mkdirSync(this.folder(name), { recursive: true });
      writeAtomic(this.artifactFile(name, version), a.text);
    } catch (err) {
      throw storeFailed(`cannot write ${this.artifactFile(name, version)}`, err);
    }
    const next: ModelState = {
      ...st,
      active: version,
      previous: st.active,
      highestInstalled: version,
      rolledBack: null,
      activatedAt: now.toISOString(),
    };
    this.writeState(name, next);
    this.prune(name, next);
    return { status: 'installed', previous: st.active };
  }

  /** Reactivates the previous version; the rolled-back one is never taken again. */
  rollback(name: string, now = new Date()): ModelState {
    const st = this.state(name);
    if (st.previous === null || !existsSync(this.artifactFile(name, st.previous))) {
      throw new AgentError(
        AgentErrorCode.ModelNoPrevious,
        `no previous ${name} model to roll back to (active ${st.active ?? 'none'})`,
      );
    }
    const next: ModelState = {
      ...st,
      active: st.previous,
      previous: null,
      rolledBack: st.active,
      activatedAt: now.toISOString(),
    };
    this.writeState(name, next);
    return next;
  }

  /** The active artifact failed its check at start: fall back to the previous one. */
  demoteActive(name: string): ModelState {
    const st = this.state(name);
    const next: ModelState = {
      ...st,
      active: st.previous,
      previous: null,
      activatedAt: new Date().toISOString(),
    };
    this.writeState(name, next);
    return next;
  }

  recordRejection(name: string, rejection: ModelRejection): void {
    this.writeState(name, { ...this.state(name), lastRejected: rejection });
  }

  /** Names with a state file. */
  names(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(this.stateFile(d.name)))
      .map((d) => d.name)
      .sort();
  }

  private prune(name: string, st: ModelState): void {
    const keep = new Set([st.active, st.previous].filter((v) => v !== null).map((v) => `${v}.json`));
    for (const f of readdirSync(this.folder(name))) {
      if (/^\d+\.json$/.test(f) && !keep.has(f)) rmSync(path.join(this.folder(name), f), { force: true });
    }
  }
}
