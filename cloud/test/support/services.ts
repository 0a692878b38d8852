import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type pg from 'pg';
import { openPool } from '../../src/db/pool.ts';

/** The shipped migration files in order: what `migrate()` must apply on a fresh schema. */
export const MIGRATION_FILES = readdirSync(path.join(import.meta.dirname, '../../src/db/migrations'))
  .filter((f) => /^\d{6}\.sql$/.test(f))
  .sort();

/** The real services every developer and CI machine of this project runs (never mocked here). */
export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MQTT_URL = process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

function reachable(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Throws, saying how to start what is missing, when PostgreSQL or Mosquitto is down. Never skips. */
export async function requireServices(which: { postgres?: boolean; mqtt?: boolean }): Promise<void> {
  const problems: string[] = [];
  if (which.postgres) {
    const u = new URL(POSTGRES_URL);
    if (!(await reachable(u.hostname, Number(u.port || 5432)))) {
      problems.push(
        `PostgreSQL is not reachable at ${u.host}. Start it: pg_ctlcluster --skip-systemctl-redirect 15 main start`,
      );
    }
  }
  if (which.mqtt) {
    const u = new URL(MQTT_URL);
    if (!(await reachable(u.hostname, Number(u.port || 1883)))) {
      problems.push(
        `Mosquitto is not reachable at ${u.host}. Start it: mosquitto -d -c /etc/mosquitto/mosquitto.conf`,
      );
    }
  }
  if (problems.length > 0) throw new Error(`required services are down:\n  ${problems.join('\n  ')}`);
}

/** A random lowercase suffix: schema names, base topics and client ids of one test run. */
export function uniqueId(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** A pool on a fresh schema of its own (search_path set per connection by openPool). */
export async function openTestPool(
  prefix: string,
): Promise<{ pool: pg.Pool; schema: string; drop(): Promise<void> }> {
  const schema = uniqueId(prefix);
  const pool = await openPool({ url: POSTGRES_URL, schema, max: 5 });
  return {
    pool,
    schema,
    async drop() {
      try {
        await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await pool.end();
      }
    },
  };
}
