/**
 * The `/metrics` endpoint (Prometheus text format) of a cloud process: its own small HTTP server
 * on FLEET_METRICS_HOST:FLEET_METRICS_PORT (127.0.0.1:9464 by default), apart from the API, so
 * the figures are never behind the API's rate limits or reachable where the API is published.
 * They carry no secrets: counts, times and group names, never a token, address or payload.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@fleet/shared/log';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { collectProcessMetrics, registry } from './registry.ts';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the endpoint. A port already taken is logged (E950) and the process goes on without it:
 * the figures are there to watch the ingest, never a reason to stop it (as a failing
 * zigbee2mqtt extension cannot take the gateway down). Returns null then.
 */
export async function startMetricsServer(opts: {
  host: string;
  port: number;
  path: string;
  log: Logger;
}): Promise<MetricsServer | null> {
  collectProcessMetrics();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path !== opts.path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end();
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        opts.log.warn({ err: (err as Error).message }, 'metrics not collected');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics not collected\n');
      },
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, resolve);
    });
  } catch (err) {
    const e = new CloudError(
      CloudErrorCode.MetricsEndpoint,
      `metrics endpoint not started on ${opts.host}:${opts.port}: ${(err as Error).message}`,
      { cause: err },
    );
    opts.log.error({ code: e.code, err: e.message }, 'metrics endpoint not started; running without it');
    return null;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}${opts.path}`;
  opts.log.info({ url }, 'metrics listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
