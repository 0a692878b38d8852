/**
 * Receives model artifacts on `{base}/v1/{tenant}/{vehicle}/model` (retained, QoS 1) and hands
 * them to the ModelService. Its own MQTT connection, so the telemetry sync (persistent session,
 * will message, ack flow) stays exactly as it is; the artifact is retained, so a vehicle that was
 * offline when it was published gets it at its next connect, and gets it again at every reconnect
 * (the service answers `unchanged` without work).
 */
import { vehicleTopic } from '@fleet/shared';
import type { Logger } from '@fleet/shared/log';
import { safeUrl } from '@fleet/shared/log';
import mqtt from 'mqtt';
import { brokerClientOptions } from '../sync/broker-options.ts';
import type { ModelService, OfferResult } from './model-service.ts';

export interface ModelReceiverOptions {
  url: string;
  tenantId: string;
  vehicleId: string;
  baseTopic?: string;
  username?: string;
  password?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  clientId?: string;
  reconnectPeriodMs?: number;
  keepaliveSec?: number;
}

/** Larger than any engine model we train (a few KB) by far; bigger payloads are refused unread. */
export const MAX_MODEL_PAYLOAD_BYTES = 2 * 1024 * 1024;

export class ModelReceiver {
  readonly stats = { received: 0, tooLarge: 0 };
  private client: mqtt.MqttClient | null = null;
  private subscribed = false;
  private readonly topic: string;
  private readonly listeners = new Set<(r: OfferResult | Error) => void>();

  constructor(
    private readonly service: ModelService,
    private readonly opts: ModelReceiverOptions,
    private readonly log: Logger,
  ) {
    this.topic = vehicleTopic('model', opts.tenantId, opts.vehicleId, opts.baseTopic);
  }

  start(): void {
    const o = this.opts;
    const client = mqtt.connect(o.url, {
      // A clientId given in the settings is used as it is; the default one gets '-models'.
      ...brokerClientOptions(o, o.clientId ? '' : '-models', {
        reconnectPeriodMs: 5000,
        keepaliveSec: 60,
      }),
      protocolVersion: 4,
      clean: true,
    });
    this.client = client;
    client.on('connect', () => {
      this.log.debug({ broker: safeUrl(o.url), topic: this.topic }, 'model receiver connected');
      this.subscribed = false;
      client.subscribe(this.topic, { qos: 1 }, (err, granted) => {
        // 0x80 in the SUBACK: the broker refused the filter (its ACL), without an error event.
        const refused = granted?.some((g) => g.qos === 128);
        if (err || refused) {
          this.log.warn(
            { err: err?.message ?? 'subscription refused by the broker (ACL?)', topic: this.topic },
            'cannot subscribe to model updates',
          );
        } else this.subscribed = true;
      });
    });
    client.on('message', (topic, payload) => {
      if (topic !== this.topic || payload.length === 0) return; // empty: a cleared retained message
      this.stats.received++;
      if (payload.length > MAX_MODEL_PAYLOAD_BYTES) {
        this.stats.tooLarge++;
        this.log.warn({ bytes: payload.length }, 'model payload too large; ignored');
        return;
      }
      this.service.offer(payload, `mqtt:${topic}`).then(
        (r) => this.emit(r),
        (err: Error) => this.emit(err), // logged and recorded by the service
      );
    });
    client.on('error', (err) => this.log.warn({ err: err.message }, 'model receiver mqtt error'));
  }

  /** Resolves when the subscription is in place (tests and the CLI wait for it). */
  waitSubscribed(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('model receiver: not subscribed in time')), timeoutMs);
      const check = () => {
        if (this.subscribed) {
          clearTimeout(timer);
          resolve();
        } else setTimeout(check, 20);
      };
      check();
    });
  }

  /** Called with each offer's outcome (installed / unchanged, or the refusal). */
  onResult(fn: (r: OfferResult | Error) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(r: OfferResult | Error): void {
    for (const fn of this.listeners) fn(r);
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await c.endAsync();
  }
}
