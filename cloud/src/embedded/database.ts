import { PGlite } from '@electric-sql/pglite';
import type { Logger } from '@fleet/shared/log';
import { PgliteServer } from './pglite-server.ts';

/**
 * The embedded database: PGlite (PostgreSQL compiled to WASM) served on a TCP socket, so the
 * cloud talks to it with the same `pg` code it uses for a real PostgreSQL. `dataDir` keeps the
 * data between runs; omit it for an in-memory database.
 */
export async function startEmbeddedDatabase(opts: {
  host: string;
  port: number;
  dataDir?: string;
  log: Logger;
}) {
  const db = await PGlite.create(opts.dataDir);
  // One connection's whole exchange at a time on PGlite's single session (pglite-server.ts).
  const server = new PgliteServer(db, opts.log);
  const port = await server.start(opts.host, opts.port);
  const url = `postgres://postgres@${opts.host}:${port}/postgres`;
  opts.log.info({ url, dataDir: opts.dataDir ?? 'memory' }, 'embedded PostgreSQL (PGlite) listening');
  return {
    url,
    close: async () => {
      await server.stop();
      await db.close();
    },
  };
}
