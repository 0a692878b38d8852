/**
 * The engine model the running agent uses, and how it changes without a restart:
 *
 *   MQTT ModelReceiver --offer()--> verify (signature, checksum, vehicle) --> newer than installed?
 *     --> load in tfjs (a model that does not load is refused too) --> ModelStore.install (atomic)
 *     --> swap: the detector's next sample reads the new EngineModel
 *
 *   `fleet-agent model rollback` (another process) rewrites state.json; the daemon notices within
 *   `watchMs` and swaps back the same way.
 *
 * A refused artifact never touches the active model; its reason (an AgentError code) is logged,
 * counted and kept in state.json for `fleet-agent model status`.
 */
import type { KeyObject } from 'node:crypto';
import type { Logger } from '@fleet/shared/log';
import { AgentError, AgentErrorCode, isAgentError } from '../errors.ts';
import { type VerifiedArtifact, verifyArtifact } from './artifact.ts';
import { EngineModel } from './engine-model.ts';
import { type ModelState, ModelStore } from './model-store.ts';

export const ENGINE_MODEL_NAME = 'engine-anomaly';

export interface ModelServiceOptions {
  /** Folder of the ModelStore (modelsDirFor(dbPath)). */
  dir: string;
  /** The publisher's Ed25519 key: every artifact must verify against it. */
  publicKey: KeyObject;
  vehicleId: string;
  log: Logger;
  /** How often to look for a rollback made by the CLI (default 2 s; 0 = never). */
  watchMs?: number;
}

export interface OfferResult {
  status: 'installed' | 'unchanged';
  version: string;
}

export class ModelService {
  readonly store: ModelStore;
  readonly stats = { offered: 0, installed: 0, unchanged: 0, rejected: 0, reloads: 0 };
  private current: EngineModel | null = null;
  private loadedVersion: number | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private watchTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: ModelServiceOptions) {
    this.store = new ModelStore(opts.dir);
  }

  /** Loads the active artifact (verified again: the disk is not trusted more than the network). */
  async start(): Promise<void> {
    await this.serial(() => this.reload());
    const every = this.opts.watchMs ?? 2000;
    if (every > 0) {
      this.watchTimer = setInterval(() => {
        void this.serial(() => this.reload()).catch((err) =>
          this.opts.log.warn({ err: (err as Error).message }, 'model reload failed'),
        );
      }, every);
      this.watchTimer.unref();
    }
  }

  stop(): void {
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = null;
  }

  /** The EngineModel the detector should use now (null: none installed yet). */
  engineModel(): EngineModel | null {
    return this.current;
  }

  /** `engine-anomaly@<version>` or null: what every event the agent emits carries as modelVersion. */
  activeModelVersion(): string | null {
    return this.current?.label ?? null;
  }

  state(): ModelState {
    return this.store.state(ENGINE_MODEL_NAME);
  }

  /** An artifact from the network or a file: installed and active on return, or an AgentError. */
  offer(input: string | Buffer, source: string): Promise<OfferResult> {
    return this.serial(() => this.install(input, source));
  }

  rollback(): Promise<ModelState> {
    return this.serial(async () => {
      const st = this.store.rollback(ENGINE_MODEL_NAME);
      await this.reload();
      this.opts.log.warn({ active: st.active, rolledBack: st.rolledBack }, 'engine model rolled back');
      return st;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  private async install(input: string | Buffer, source: string): Promise<OfferResult> {
    this.stats.offered++;
    const log = this.opts.log;
    try {
      const a = verifyArtifact(input, this.opts.publicKey, { vehicleId: this.opts.vehicleId });
      if (a.manifest.name !== ENGINE_MODEL_NAME) {
        throw new AgentError(
          AgentErrorCode.ModelMalformed,
          `model artifact malformed: this agent runs "${ENGINE_MODEL_NAME}" models, not "${a.manifest.name}"`,
        );
      }
      if (this.store.checkVersion(a) === 'unchanged') {
        this.stats.unchanged++;
        log.debug({ version: a.label, source }, 'model already active');
        return { status: 'unchanged', version: a.label };
      }
      // Loaded before it is stored: an artifact tfjs cannot run never becomes active.
      const model = await EngineModel.load(a);
      const result = this.store.install(a);
      this.swap(model, a.manifest.version);
      this.stats.installed++;
      log.info(
        {
          version: a.label,
          previous: result.status === 'installed' ? result.previous : null,
          source,
          threshold: a.manifest.threshold,
          features: a.manifest.features.map((f) => f.name),
        },
        'engine model installed and active',
      );
      return { status: 'installed', version: a.label };
    } catch (err) {
      this.stats.rejected++;
      const code = isAgentError(err) ? err.code : AgentErrorCode.ModelMalformed;
      log.warn(
        { code, err: (err as Error).message, source, active: this.activeModelVersion() },
        'model artifact rejected; the active model stays',
      );
      try {
        this.store.recordRejection(ENGINE_MODEL_NAME, {
          at: new Date().toISOString(),
          code,
          reason: (err as Error).message,
          source,
        });
      } catch (storeErr) {
        log.warn({ err: (storeErr as Error).message }, 'cannot record the rejection');
      }
      throw err;
    }
  }

  /** Makes the in-memory model match state.json (start, and after a CLI rollback). */
  private async reload(): Promise<void> {
    const st = this.store.state(ENGINE_MODEL_NAME);
    if (st.active === this.loadedVersion) return;
    if (st.active === null) {
      this.swap(null, null);
      return;
    }
    let verified: VerifiedArtifact;
    try {
      verified = verifyArtifact(this.store.readArtifact(ENGINE_MODEL_NAME, st.active), this.opts.publicKey, {
        vehicleId: this.opts.vehicleId,
      });
    } catch (err) {
      // Tampered or damaged on disk (or the trusted key changed): never run it; try the previous.
      this.opts.log.error(
        { version: st.active, err: (err as Error).message },
        'stored engine model fails verification; falling back to the previous one',
      );
      this.store.demoteActive(ENGINE_MODEL_NAME);
      return this.reload();
    }
    this.swap(await EngineModel.load(verified), st.active);
    this.stats.reloads++;
    this.opts.log.info({ version: verified.label }, 'engine model loaded');
  }

  private swap(model: EngineModel | null, version: number | null): void {
    const old = this.current;
    this.current = model;
    this.loadedVersion = version;
    // Inference is synchronous: nothing can be using the old network at this point.
    if (old && old !== model) old.dispose();
  }
}
