/**
 * The API's figures: the time of every tRPC procedure call (api/trpc.ts's one middleware, so the
 * direct GET answers and the adapter's batches are timed alike), its errors by tRPC code, and the
 * open live streams (SSE subscriptions), pulled from the live feed at scrape time. A procedure
 * path is a label: the set is fixed by the router (an unknown path never reaches a procedure).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry, Sources } from './registry.ts';

const duration = new Histogram<'procedure' | 'type'>({
  name: 'fleet_api_request_duration_seconds',
  help: 'tRPC procedure calls, from the procedure middleware to its answer (subscriptions: until the stream starts).',
  labelNames: ['procedure', 'type'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});
const errors = new Counter<'procedure' | 'code'>({
  name: 'fleet_api_request_errors_total',
  help: 'tRPC procedure calls that ended in an error, by tRPC error code.',
  labelNames: ['procedure', 'code'],
  registers: [registry],
});
// labels() hashes its argument on every call; a child per procedure is made once.
const timers = new Map<string, Histogram.Internal<'procedure' | 'type'>>();

/** One procedure call: `path` as tRPC names it (`alerts.list`), `errorCode` when it failed. */
export function observeProcedure(path: string, type: string, seconds: number, errorCode?: string): void {
  const key = `${type} ${path}`;
  let timer = timers.get(key);
  if (!timer) {
    timer = duration.labels(path, type);
    timers.set(key, timer);
  }
  timer.observe(seconds);
  if (errorCode !== undefined) errors.inc({ procedure: path, code: errorCode });
}

const streams = new Sources<number>();
/** Exports the open live streams of a feed (main.ts); returns the function that stops it. */
export const watchLiveStreams = (count: () => number) => streams.add(count);

new Gauge({
  name: 'fleet_api_sse_clients',
  help: 'Open live subscriptions (positions, alerts) served over server-sent events by this process.',
  registers: [registry],
  collect() {
    let n = 0;
    for (const c of streams.values()) n += c;
    this.set(n);
  },
});
