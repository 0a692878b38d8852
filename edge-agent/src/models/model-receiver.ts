/**
 * The model lane of the broker link: artifacts on `{base}/v1/{tenant}/{vehicle}/model`
 * (retained, QoS 1), handed to the ModelService. The artifact is retained, so a vehicle that was
 * offline when it was published gets it at its next connect, and gets it again at every
 * reconnect (the service answers `unchanged` without work).
 */
import type { Logger } from '@fleet/shared/log';
import type { Lane } from '../sync/lane.ts';
import type { ModelService, OfferResult } from './model-service.ts';

/** Larger than any engine model we train (a few KB) by far; bigger payloads are refused unread. */
export const MAX_MODEL_PAYLOAD_BYTES = 2 * 1024 * 1024;

export class ModelReceiver implements Lane {
  readonly inbound = ['model'] as const;
  readonly stats = { received: 0, tooLarge: 0 };
  private subscribedNow = false;
  private readonly listeners = new Set<(r: OfferResult | Error) => void>();

  constructor(
    private readonly service: ModelService,
    private readonly log: Logger,
  ) {}

  connected(): void {
    this.subscribedNow = false;
  }

  subscribed(refused: readonly string[]): void {
    // 0x80 in the SUBACK: the broker refused the filter; BrokerLink asks again after a pause.
    if (refused.length > 0)
      this.log.warn(
        'model updates refused by the broker (ACL, or a cluster electing leaders): subscribing again',
      );
    else this.subscribedNow = true;
  }

  message(kind: 'model', payload: Buffer): void {
    if (payload.length === 0) return; // a cleared retained message
    this.stats.received++;
    if (payload.length > MAX_MODEL_PAYLOAD_BYTES) {
      this.stats.tooLarge++;
      this.log.warn({ bytes: payload.length }, 'model payload too large; ignored');
      return;
    }
    this.service.offer(payload, `mqtt:${kind}`).then(
      (r) => this.emit(r),
      (err: Error) => this.emit(err), // logged and recorded by the service
    );
  }

  /** Resolves when the subscription is in place (tests and the CLI wait for it). */
  waitSubscribed(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('model receiver: not subscribed in time')), timeoutMs);
      const check = () => {
        if (this.subscribedNow) {
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
}
