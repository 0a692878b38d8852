import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from '@fleet/shared/log';

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
  // The socket server multiplexes connections onto PGlite's single session, query by query.
  const server = new PGLiteSocketServer({ db, host: opts.host, port: opts.port, maxConnections: 20 });
  await server.start();
  const url = `postgres://postgres@${opts.host}:${opts.port}/postgres`;
  opts.log.info({ url, dataDir: opts.dataDir ?? 'memory' }, 'embedded PostgreSQL (PGlite) listening');
  return {
    url,
    close: async () => {
      await server.stop();
      await db.close();
    },
  };
}
