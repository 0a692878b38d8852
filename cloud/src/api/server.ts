import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@fleet/shared/log';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import type pg from 'pg';
import { appRouter } from './root.ts';

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

/** tRPC over HTTP at `/trpc`, plus `/healthz` for orchestrators. Localhost unless configured. */
export async function startApiServer(opts: { pool: pg.Pool; host: string; port: number; log: Logger }) {
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    createContext: () => ({ db: opts.pool }),
    onError: ({ path, error }) => {
      if (error.code === 'INTERNAL_SERVER_ERROR') opts.log.error({ path, err: error.message }, 'api error');
    },
  });
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    if (req.url?.startsWith('/trpc/')) return trpc(req, res);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host}:${port}`;
  opts.log.info({ url }, 'api listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  } satisfies ApiServer;
}
