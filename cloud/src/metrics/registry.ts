/**
 * The cloud process's one Prometheus registry (prom-client) and the two ways a figure gets into it:
 *
 *   pushed: the code that sees an event increments a counter or observes a histogram, once per
 *           group / request / delivery, never per sample (the live ingest's CPU per message matters);
 *   pulled: a component keeps its own plain counters (`TelemetryIngest.stats`, ...) and the scrape
 *           reads them (`pulledCounter`): nothing at all on the hot path.
 *
 * Names follow Prometheus' conventions: `fleet_` prefix, `_total` counters, base units (`_seconds`,
 * `_bytes`). Labels stay few and bounded: a procedure, a channel, a reason class, a vehicle group;
 * never a vehicle, user or tenant-chosen free text that grows with the fleet.
 */
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';

export const registry = new Registry();

let processMetrics = false;

/** Node's own figures (CPU, memory, event-loop lag, GC) under their standard names, once per process. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry });
}

/**
 * Sources of a pulled figure: each registered getter gives its current totals, summed over the
 * sources (several ingests in one process add up). Returns the function that removes the source.
 */
export class Sources<T> {
  private readonly getters = new Set<() => T>();
  add(get: () => T): () => void {
    this.getters.add(get);
    return () => this.getters.delete(get);
  }
  *values(): Iterable<T> {
    for (const get of this.getters) yield get();
  }
}

/**
 * A counter whose value is read at scrape time from components' own totals. `read` reports each
 * labelled value (called once per label set and source; values of one label set add up).
 */
export function pulledCounter<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
  read: (add: (labels: Partial<Record<L, string>>, value: number) => void) => void,
): Counter<L> {
  return new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      read((labels, value) => this.inc(labels, Math.max(0, value)));
    },
  });
}
