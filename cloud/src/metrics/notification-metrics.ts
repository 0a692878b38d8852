/**
 * Notifications: every delivery attempt's outcome by channel (the worker counts it where it
 * records it), and the job queue's depth, asked of pg-boss at scrape time.
 */
import { Counter, Gauge } from 'prom-client';
import { CHANNELS } from '../notifications/model.ts';
import { registry, Sources } from './registry.ts';

const DELIVERY_RESULTS = ['sent', 'retrying', 'dead', 'held'] as const;
export type DeliveryResult = (typeof DELIVERY_RESULTS)[number];

const deliveries = new Counter<'channel' | 'result'>({
  name: 'fleet_notification_deliveries_total',
  help: 'Delivery attempts by channel and result: sent, retrying (a transient failure), dead (given up), held (quiet hours or throttle, for a digest).',
  labelNames: ['channel', 'result'],
  registers: [registry],
});

// Every known series from zero, so rate() and increase() see the first delivery of a kind.
for (const channel of CHANNELS) for (const result of DELIVERY_RESULTS) deliveries.inc({ channel, result }, 0);

export function countDelivery(channel: (typeof CHANNELS)[number], result: DeliveryResult): void {
  deliveries.inc({ channel, result });
}

const queues = new Sources<Promise<number>>();
/** Exports a worker's queue depth (main.ts); returns the function that stops it. */
export const watchJobQueue = (depth: () => Promise<number>) => queues.add(depth);

new Gauge({
  name: 'fleet_notification_queue_jobs',
  help: 'Delivery jobs waiting in the job queue (pg-boss: created or waiting for a retry).',
  registers: [registry],
  async collect() {
    let n = 0;
    try {
      for (const depth of queues.values()) n += await depth;
    } catch {
      return; // the database is away: no figure rather than a wrong one (the scrape goes on)
    }
    this.set(n);
  },
});
