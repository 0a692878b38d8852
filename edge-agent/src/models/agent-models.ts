/**
 * The model side of `fleet-agent run`: the ModelService (store beside the SQLite db, hot swap,
 * rollback noticed) and the MQTT receiver, started with the agent when it has the publisher's
 * public key (`--model-public-key`). Without the key nothing model-related runs: an agent never
 * accepts artifacts it cannot verify.
 *
 * For the detector pipeline: `extraDetectors: [models.detector()]` and
 * `modelVersion: () => models.activeModelVersion()`.
 */
import type { Logger } from '@fleet/shared/log';
import type { AgentConfig } from '../config.ts';
import { readPublicKey } from './artifact.ts';
import { EngineAnomalyDetector, type EngineAnomalyOptions } from './engine-anomaly.ts';
import { ModelReceiver } from './model-receiver.ts';
import { ModelService } from './model-service.ts';
import { modelsDirFor } from './model-store.ts';

type ModelsConfig = Pick<
  AgentConfig,
  | 'dbPath'
  | 'vehicleId'
  | 'tenantId'
  | 'baseTopic'
  | 'mqttUrl'
  | 'mqttUsername'
  | 'mqttPassword'
  | 'mqttCaFile'
  | 'mqttCertFile'
  | 'mqttKeyFile'
  | 'keepaliveSec'
> & { modelPublicKeyFile?: string };

export class AgentModels {
  readonly service: ModelService;
  readonly receiver: ModelReceiver;

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
    this.receiver = new ModelReceiver(
      this.service,
      {
        url: config.mqttUrl,
        tenantId: config.tenantId,
        vehicleId: config.vehicleId,
        baseTopic: config.baseTopic,
        username: config.mqttUsername,
        password: config.mqttPassword,
        caFile: config.mqttCaFile,
        certFile: config.mqttCertFile,
        keyFile: config.mqttKeyFile,
        keepaliveSec: config.keepaliveSec,
      },
      log,
    );
  }

  /** null when no publisher key is configured. */
  static create(config: ModelsConfig, log: Logger): AgentModels | null {
    if (!config.modelPublicKeyFile) return null;
    return new AgentModels({ ...config, modelPublicKeyFile: config.modelPublicKeyFile }, log);
  }

  /** Loads the stored active model (if any), then listens for new ones. */
  async start(): Promise<void> {
    await this.service.start();
    this.receiver.start();
  }

  activeModelVersion(): string | null {
    return this.service.activeModelVersion();
  }

  /** An engine-anomaly detector that always uses the active model. */
  detector(opts?: EngineAnomalyOptions): EngineAnomalyDetector {
    return new EngineAnomalyDetector(() => this.service.engineModel(), { log: this.log, ...opts });
  }

  async stop(): Promise<void> {
    this.service.stop();
    await this.receiver.stop();
  }
}
