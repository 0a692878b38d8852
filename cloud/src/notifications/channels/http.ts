/**
 * The one outgoing HTTP request of the channels (webhooks, push, SMS): node:http(s) so the
 * socket's address goes through the AddressGuard's lookup (fetch has no such hook without an
 * extra dependency). Bounded in time and in the answer it reads.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import type { AddressGuard } from './address-guard.ts';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The first 4 KiB of the answer: enough for an error message, never more. */
  body: string;
}

export interface HttpRequest {
  url: string;
  method?: string;
  headers: Record<string, string | number>;
  body: string | Buffer;
  timeoutMs?: number;
  /** null: an operator-configured address (the SMS provider) that is trusted. */
  guard: AddressGuard | null;
}

export function sendHttp(req: HttpRequest): Promise<HttpAnswer> {
  const url = new URL(req.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (req.guard && isIP(host)) {
    const why = req.guard.problem(host);
    if (why) return Promise.reject(new CloudError(CloudErrorCode.NotificationAddressRefused, why));
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const r = client.request(
      url,
      {
        method: req.method ?? 'POST',
        headers: req.headers,
        timeout: req.timeoutMs ?? 10_000,
        ...(req.guard ? { lookup: req.guard.lookup } : {}),
        // A fresh socket per request: a pooled one may have been resolved under an older check.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < 4096) chunks.push(c);
          size += c.length;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).subarray(0, 4096).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
    r.on('error', reject);
    r.end(req.body);
  });
}

/** A network error (refused, reset, timeout, DNS) is worth another try; a refused address is not. */
export function networkFailure(err: unknown, what: string): CloudError {
  if (err instanceof CloudError) return err;
  const e = err as NodeJS.ErrnoException;
  return new CloudError(CloudErrorCode.DeliveryTransient, `${what}: ${e.code ?? ''} ${e.message}`.trim(), {
    cause: err,
  });
}

/** 2xx sent; 408, 425, 429 and 5xx transient; any other answer permanent. */
export function classifyHttp(status: number, what: string): CloudError | null {
  if (status >= 200 && status < 300) return null;
  const transient = status === 408 || status === 425 || status === 429 || status >= 500;
  return new CloudError(
    transient ? CloudErrorCode.DeliveryTransient : CloudErrorCode.DeliveryPermanent,
    `${what} answered HTTP ${status}`,
  );
}
