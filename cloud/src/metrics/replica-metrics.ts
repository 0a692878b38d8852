/**
 * The read replica's figures (db/read-replica.ts): reads it answered, reads the primary answered
 * because the replica could not be reached (the alert to watch: a replica that is down quietly
 * moves the dashboards' load back onto the primary), and whether it is believed up right now.
 */
import { Counter, Gauge } from 'prom-client';
import { registry } from './registry.ts';

export const replicaReads = new Counter({
  name: 'fleet_db_replica_reads_total',
  help: 'Lag-tolerant API reads (replicaRead procedures) answered by the read replica (DATABASE_READ_URL).',
  registers: [registry],
});
export const replicaFallbacks = new Counter<'reason'>({
  name: 'fleet_db_replica_fallbacks_total',
  help: 'Lag-tolerant API reads answered by the primary because the read replica was unreachable (reason: failed = this read found it down, down = skipped while it is believed down).',
  labelNames: ['reason'],
  registers: [registry],
});
export const replicaUp = new Gauge({
  name: 'fleet_db_replica_up',
  help: '1 while the read replica answers, 0 while reads fall back to the primary; absent without DATABASE_READ_URL.',
  registers: [registry],
});
