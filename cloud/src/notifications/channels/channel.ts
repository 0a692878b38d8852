import type { Delivery } from '../model.ts';

/**
 * One channel's sender. `send` resolves with what the far side answered (an SMTP reply, an HTTP
 * status) for the delivery log, or throws a CloudError: DeliveryTransient (tried again with
 * backoff), DeliveryPermanent or NotificationAddressRefused (dead at once), ChannelNotConfigured.
 * Every message carries `delivery.idempotencyKey` so a receiver can drop repeats.
 */
export interface ChannelSender {
  send(delivery: Delivery): Promise<string>;
  close?(): Promise<void>;
}

/** The text a message ends with: where the alert opens. */
export function withLink(text: string, link: string | null): string {
  return link ? `${text}\n\nOpen the alert: ${link}` : text;
}
