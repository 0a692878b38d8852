/**
 * The model side of `fleet-agent run`: the ModelService (store beside the SQLite db, hot swap,
 * rollback noticed), started with the agent when it has the publisher's public key
 * (`--model-public-key`); the broker link then carries a model lane into it (ModelReceiver).
 * Without the key nothing model-related runs: an agent never accepts artifacts it cannot verify.
 *
 * For the detector pipeline: `extraDetectors: [models.detector()]` and
 * `modelVersion: () => models.activeModelVersion()`.
 */
import type { Logger } from '@fleet/shared/log';
import type { AgentConfig } from '../config.ts';
import { readPublicKey } from './artifact.ts';
import { EngineAnomalyDetector, type EngineAnomalyOptions } from './engine-anomaly.ts';
import { ModelService } from './model-service.ts';
import { modelsDirFor } from './model-store.ts';

type ModelsConfig = Pick<AgentConfig, 'dbPath' | 'vehicleId'> & { modelPublicKeyFile?: string | undefined };

export class AgentModels {
  readonly service: ModelService;

  private constructor(
    config: ModelsConfig & { modelPublicKeyFile: string },
    private readonly log: Logger,
  ) {
    this.service = new ModelService({
      dir: modelsDirFor(config.dbPath),
      publicKey: readPublicKey(config.modelPublicKeyFile), // a bad key stops the start, loudly
      vehicleId: config.vehicleId,
      log,
    });
  }

  /** null when no publisher key is configured. */
  static create(config: ModelsConfig, log: Logger): AgentModels | null {
    if (!config.modelPublicKeyFile) return null;
    return new AgentModels({ ...config, modelPublicKeyFile: config.modelPublicKeyFile }, log);
  }

  /** Loads the stored active model (if any); offers from the link queue behind the load. */
  start(): Promise<void> {
    return this.service.start();
  }

  activeModelVersion(): string | null {
    return this.service.activeModelVersion();
  }

  /** An engine-anomaly detector that always uses the active model. */
  detector(opts?: EngineAnomalyOptions): EngineAnomalyDetector {
    return new EngineAnomalyDetector(() => this.service.engineModel(), { log: this.log, ...opts });
  }

  stop(): void {
    this.service.stop();
  }
}
