import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@fleet/shared/log';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import type pg from 'pg';
import { API_TOKEN_PATTERN, sessionFromApiToken, sessionFromToken } from '../auth/auth-service.ts';
import type { OidcLogin } from '../auth/oidc.ts';
import { cachedSession } from '../auth/session-cache.ts';
import type { ReadReplica } from '../db/read-replica.ts';
import { serveExport } from '../reports/schedules/download.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { MAX_WEBHOOK_BYTES, receiveWebhook, SIGNATURE_HEADER } from '../webhooks/receiver.ts';
import { RateLimiter } from './rate-limit.ts';
import { handleReceipt, RECEIPT_PATH } from './receipt-route.ts';
import { appRouter, createCaller } from './root.ts';
import { SESSION_COOKIE, sessionCookie } from './session-cookie.ts';
import type { AdminServices, ApiContext } from './trpc.ts';

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

export interface ApiRateLimits {
  /** Requests per minute per client IP, all procedures. */
  perIp: number;
  /** Requests per minute per signed-in user or token. */
  perUser: number;
  /** Sign-in attempts per minute per client IP (the account lockout stops guessing per user). */
  loginPerIp: number;
}
const DEFAULT_LIMITS: ApiRateLimits = { perIp: 1200, perUser: 600, loginPerIp: 20 };

/** JSON only, never framed, never cached, no referrer leaks. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};
const SECURITY_ENTRIES = Object.entries(SECURITY_HEADERS);
/** A direct GET answer's headers, whole (server.ts sets nothing on the response before it). */
const FAST_HEADERS = { ...SECURITY_HEADERS, 'content-type': 'application/json' };

/**
 * Subscriptions written by the server itself (fastStream) rather than tRPC's adapter: their
 * messages are shared between streams (live-feed.ts) and untracked (no event ids to resume).
 */
const DIRECT_STREAMS = new Set(['live.positions', 'live.alerts']);
/** tRPC's SSE headers (sseHeaders), after the security headers. */
const SSE_HEADERS = {
  ...SECURITY_HEADERS,
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
};
/** The ping, the stream's maximum duration and the client's options: the router's own SSE config. */
const SSE_CONFIG = appRouter._def._config.sse ?? {};
const PING_EVENT = Buffer.from('event: ping\ndata: \n\n');
const CONNECTED_EVENT = Buffer.from(`event: connected\ndata: ${JSON.stringify(SSE_CONFIG.client ?? {})}\n\n`);
const RETURN_EVENT = Buffer.from('event: return\ndata: \n\n');
/**
 * Connections waiting to be accepted (the kernel caps it at net.core.somaxconn). Node's default,
 * 511, overflowed when thousands of live streams (re)connected at once, as every browser does
 * after an API restart: the kernel dropped the handshakes of a busy process and some clients
 * saw ECONNRESET (bench/sse-scale.ts at 10,000 streams).
 */
const LISTEN_BACKLOG = 4096;
/** One open direct stream, as the shared heartbeat sees it. */
interface DirectStream {
  res: http.ServerResponse;
  /** Epoch ms at which it ends (the client reconnects, and a revoked session stops there). */
  until: number;
  /** Its socket's buffer is full: no ping is added to it. */
  blocked: boolean;
  end(): void;
}

function cookie(req: http.IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}

/** The session token from the cookie (browsers) or `Authorization: Bearer` (integrations). */
function presentedToken(req: http.IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  return cookie(req, SESSION_COOKIE);
}

/*
 * Closures made per request come from factories (returned unnamed): under tsx (how the cloud
 * runs), esbuild's keepNames wraps every function literal that takes a property's or variable's
 * name in a defineProperty call, which the profile showed per request.
 */
/** Adds the session cookie's Set-Cookie to the response. */
const sessionCookieSetter =
  (res: http.ServerResponse, secure: boolean) => (token: string | null, maxAgeS: number) => {
    const prev = res.getHeader('set-cookie');
    const c = sessionCookie(token, maxAgeS, { sameSite: 'Strict', secure });
    res.setHeader('set-cookie', [...(Array.isArray(prev) ? prev : prev ? [String(prev)] : []), c]);
  };

/** The caller's function for a procedure path such as `vehicles.get` (one property per segment). */
function callerQuery(caller: ReturnType<typeof createCaller>, path: string) {
  let fn: unknown = caller;
  for (const segment of path.split('.')) fn = (fn as Record<string, unknown>)[segment];
  return fn as (input: unknown) => Promise<unknown>;
}

function tooMany(res: http.ServerResponse, waitMs: number) {
  res
    .writeHead(429, {
      'content-type': 'application/json',
      'retry-after': String(Math.ceil(waitMs / 1000)),
      ...SECURITY_HEADERS,
    })
    .end(JSON.stringify({ error: { message: 'rate limit exceeded', retryAfterMs: waitMs } }));
}

/** tRPC over HTTP at `/trpc`, plus `/healthz` for orchestrators. Localhost unless configured. */
export async function startApiServer(opts: {
  pool: pg.Pool;
  /** Lag-tolerant reads (replicaRead procedures) go here when set (DATABASE_READ_URL). */
  readReplica?: ReadReplica | undefined;
  host: string;
  port: number;
  log: Logger;
  limits?: Partial<ApiRateLimits>;
  /** Opens the tenants' webhook secrets; without it /webhooks answers 503. */
  secretBox?: SecretBox;
  /** OpenID Connect sign-in at /auth/oidc/start and /auth/oidc/callback, when configured. */
  oidc?: OidcLogin;
  /**
   * Peers whose X-Forwarded-For names the real client (the web app's proxy), default loopback
   * only: every browser request reaches the API through the web app, and without this all
   * users would share the web server's address and its per-IP limit.
   */
  trustedProxies?: string[] | undefined;
  /** Cookies carry `Secure`: the public URL people open is https (FLEET_PUBLIC_URL). */
  secureCookies?: boolean;
  /** Devices (the broker's logins) and invitation delivery; absent: devices cannot be changed. */
  admin?: AdminServices;
}) {
  const secureCookies = opts.secureCookies ?? false;
  const trusted = new Set(opts.trustedProxies ?? ['127.0.0.1', '::1', '::ffff:127.0.0.1']);
  /** The client's address: the socket's, or the nearest untrusted hop a trusted proxy reports. */
  const clientIp = (req: http.IncomingMessage): string => {
    const peer = req.socket.remoteAddress ?? 'unknown';
    const xff = req.headers['x-forwarded-for'];
    if (!trusted.has(peer) || typeof xff !== 'string') return peer;
    const hops = xff
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) if (!trusted.has(hops[i]!)) return hops[i]!;
    return peer;
  };
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const perIp = new RateLimiter(limits.perIp);
  const perUser = new RateLimiter(limits.perUser);
  const loginPerIp = new RateLimiter(limits.loginPerIp, Math.max(1, Math.floor(limits.loginPerIp / 2)));

  /** `token` and `ip` as the request handler already found them (the adapter's calls look again). */
  const contextFor = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    token = presentedToken(req),
    ip = clientIp(req),
  ): Promise<ApiContext> => {
    return {
      db: opts.pool,
      readReplica: opts.readReplica,
      // A token the database confirmed within the cache's few seconds needs no pattern checks.
      session: !token
        ? null
        : (cachedSession(token) ??
          (API_TOKEN_PATTERN.test(token)
            ? await sessionFromApiToken(opts.pool, token)
            : await sessionFromToken(opts.pool, token))),
      token,
      ip,
      oidc: !!opts.oidc,
      ...(opts.admin ? { admin: opts.admin } : {}),
      setSessionCookie: sessionCookieSetter(res, secureCookies),
    };
  };
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    createContext: ({ req, res }) => contextFor(req, res),
    onError: ({ path, error }) => {
      if (error.code === 'INTERNAL_SERVER_ERROR') opts.log.error({ path, err: error.message }, 'api error');
    },
  });
  /** The adapter's way (and everything but the direct GET answers): security headers first. */
  const viaAdapter = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!res.headersSent) for (const [k, v] of SECURITY_ENTRIES) res.setHeader(k, v);
    return trpc(req, res);
  };
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/trpc/')) {
      const ip = clientIp(req);
      let wait = perIp.take(ip);
      if (!wait && req.url.startsWith('/trpc/auth.login')) wait = loginPerIp.take(ip);
      const token = presentedToken(req);
      if (!wait && token) wait = perUser.take(token);
      if (wait) return tooMany(res, wait);
      if (req.method === 'GET') {
        // Writes nothing when it declines (false, or a rejection): the adapter then answers.
        void fastQuery(req, res, token, ip).then(
          (answered) => {
            if (!answered) void viaAdapter(req, res);
          },
          () => void viaAdapter(req, res),
        );
        return;
      }
      return viaAdapter(req, res);
    }
    for (const [k, v] of SECURITY_ENTRIES) res.setHeader(k, v);
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    if (req.url?.startsWith('/auth/oidc/') && req.method === 'GET') {
      const ip = clientIp(req);
      const wait = loginPerIp.take(ip);
      if (wait) return tooMany(res, wait);
      void oidcStep(req, res);
      return;
    }
    // Signed, expiring export links (reports/schedules/download.ts): the token is the credential.
    const exportToken = /^\/exports\/([A-Za-z0-9_.-]{1,600})$/.exec(req.url ?? '');
    if (exportToken && req.method === 'GET') {
      const wait = perIp.take(clientIp(req));
      if (wait) return tooMany(res, wait);
      void serveExport(opts.pool, opts.secretBox, exportToken[1]!, res, opts.log);
      return;
    }
    // Receipt photos (receipt-route.ts): bytes, with the tRPC procedures' session and limits.
    const receipt = RECEIPT_PATH.exec(req.url ?? '');
    if (receipt) {
      const ip = clientIp(req);
      const token = presentedToken(req);
      const wait = perIp.take(ip) || (token ? perUser.take(token) : 0);
      if (wait) return tooMany(res, wait);
      void contextFor(req, res, token, ip).then(
        (ctx) =>
          handleReceipt(req, res, { pool: opts.pool, session: ctx.session, id: receipt[1]!, log: opts.log }),
        (err: unknown) => {
          opts.log.error({ err: (err as Error).message }, 'receipt session lookup failed');
          if (!res.headersSent)
            res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal error"}');
        },
      );
      return;
    }
    const hook = /^\/webhooks\/([^/?]+)\/([^/?]+)$/.exec(req.url ?? '');
    if (hook && req.method === 'POST') {
      const ip = clientIp(req);
      const wait = perIp.take(ip);
      if (wait) return tooMany(res, wait);
      void webhook(req, res, hook[1]!, hook[2]!, ip);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });

  /**
   * A single query by GET (the dashboards' reads) called through tRPC's server-side caller (the
   * procedure's own middlewares: permission, input parsing, tenant + RLS, output checks) and
   * written as tRPC's JSON envelope directly. The adapter's conversion of every request and
   * response to fetch Request/Response objects and stream pipes costs several times the work of
   * a small answer (bench/api.ts). Returns false, before writing anything, for what it does not
   * handle: batches, subscriptions, mutations, malformed URLs or input and every error (the
   * adapter then answers, with tRPC's own error shape; queries have no side effects to repeat).
   */
  // Typed as the nested router record; at run time tRPC keeps every procedure under its full path.
  const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
  /** A shared answer (shared-answers.ts) is the same object for every caller: encoded once. */
  const encoded = new WeakMap<object, Buffer>();
  const fastQuery = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    token: string | null,
    ip: string,
  ): Promise<boolean> => {
    let path: string;
    let input: unknown;
    try {
      // A malformed URL or input is the adapter's to refuse, with its own error.
      const url = req.url!;
      const q = url.indexOf('?');
      path = decodeURIComponent(url.slice('/trpc/'.length, q === -1 ? undefined : q));
      const params = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
      if (params.has('batch')) return false;
      const raw = params.get('input');
      input = raw === null ? undefined : JSON.parse(raw);
    } catch {
      return false;
    }
    if (!Object.hasOwn(procedures, path)) return false;
    if (procedures[path]!._def.type === 'subscription' && DIRECT_STREAMS.has(path))
      return fastStream(req, res, path, input, token, ip);
    if (procedures[path]!._def.type !== 'query') return false;
    try {
      const ctx = await contextFor(req, res, token, ip);
      ctx.answeredAgainOnError = true; // the adapter answers errors (and the metrics count them there)
      const data = await callerQuery(createCaller(ctx), path)(input);
      const shared = typeof data === 'object' && data !== null;
      let body = shared ? encoded.get(data) : undefined;
      if (body === undefined) {
        body = Buffer.from(JSON.stringify({ result: { data } }));
        if (shared) encoded.set(data, body);
      }
      res.writeHead(200, FAST_HEADERS).end(body);
      return true;
    } catch {
      return false;
    }
  };

  /**
   * A live subscription (DIRECT_STREAMS) in tRPC's SSE wire format (what httpSubscriptionLink
   * reads: `connected`, data messages, `ping`), called through the server-side caller like
   * fastQuery (the same middlewares: session, permission, tenant). What tRPC's adapter would cost
   * each of 10,000 streams is paid once here (bench/sse-scale.ts):
   *   - a message shared by many streams is JSON-encoded once, not once per stream;
   *   - one heartbeat interval pings every stream and ends those past the maximum duration,
   *     instead of timers per stream;
   *   - no fetch Request/Response, ReadableStream and TextEncoderStream per stream;
   *   - a client that does not read is not written to until its socket drains; its messages wait
   *     in the feed's queue, merged to the latest state (live-feed.ts `follow`), so memory stays
   *     bounded per client.
   * Returns false, before writing anything, when the call is refused (the adapter then answers
   * with tRPC's own error).
   */
  const directStreams = new Set<DirectStream>();
  let heartbeat: NodeJS.Timeout | null = null;
  const pingMs = SSE_CONFIG.ping?.enabled ? (SSE_CONFIG.ping.intervalMs ?? 1000) : 15_000;
  const beat = () => {
    const now = Date.now();
    for (const s of directStreams) {
      if (now >= s.until) s.end();
      else if (SSE_CONFIG.ping?.enabled && !s.blocked) s.res.write(PING_EVENT);
    }
    if (directStreams.size === 0 && heartbeat) {
      clearInterval(heartbeat);
      heartbeat = null;
    }
  };
  const fastStream = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    path: string,
    input: unknown,
    token: string | null,
    ip: string,
  ): Promise<boolean> => {
    const abort = new AbortController();
    let messages: AsyncIterator<unknown>;
    try {
      const ctx = await contextFor(req, res, token, ip);
      ctx.answeredAgainOnError = true;
      const iterable = (await callerQuery(
        createCaller(ctx, { signal: abort.signal }),
        path,
      )(input)) as AsyncIterable<unknown>;
      messages = iterable[Symbol.asyncIterator]();
    } catch {
      return false;
    }
    const stream: DirectStream = {
      res,
      until: Date.now() + (SSE_CONFIG.maxDurationMs ?? Number.POSITIVE_INFINITY),
      blocked: false,
      // Ended without `return`: the client's EventSource reconnects (as after tRPC's maximum duration).
      end: () => {
        abort.abort();
        res.end();
      },
    };
    res.once('close', () => {
      directStreams.delete(stream);
      abort.abort();
      void messages.return?.(undefined);
    });
    res.writeHead(200, SSE_HEADERS);
    res.write(CONNECTED_EVENT);
    directStreams.add(stream);
    if (!heartbeat) {
      heartbeat = setInterval(beat, pingMs);
      heartbeat.unref();
    }
    try {
      for (;;) {
        const next = await messages.next();
        if (next.done || abort.signal.aborted) break;
        if (!res.write(sseData(next.value))) {
          stream.blocked = true;
          await drained(res);
          stream.blocked = false;
        }
      }
      // The procedure ended by itself: tRPC's `return` tells the client not to reconnect.
      if (!abort.signal.aborted && !res.destroyed) res.end(RETURN_EVENT);
    } catch (err) {
      // Not the client's doing (the live generators only end): log it, and the client reconnects.
      opts.log.error({ path, err: (err as Error).message }, 'live stream failed');
      res.destroy();
    }
    return true;
  };
  /** A message as an SSE data event; a shared one (one per scope and poll) encoded once. */
  const sseEncoded = new WeakMap<object, Buffer>();
  const sseData = (message: unknown): Buffer => {
    const shared = typeof message === 'object' && message !== null;
    let body = shared ? sseEncoded.get(message) : undefined;
    if (body === undefined) {
      body = Buffer.from(`data: ${JSON.stringify(message)}\n\n`);
      if (shared) sseEncoded.set(message, body);
    }
    return body;
  };

  const oidcStep = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const oidc = opts.oidc;
    if (!oidc)
      return void res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"error":"OpenID Connect is not configured"}');
    const url = new URL(req.url!, 'http://placeholder');
    try {
      if (url.pathname === '/auth/oidc/start') {
        res.writeHead(302, { location: await oidc.start() }).end();
        return;
      }
      if (url.pathname === '/auth/oidc/callback') {
        // The provider redirected the browser to FLEET_OIDC_REDIRECT_URI: the grant checks the
        // code against that URI, so rebuild the callback on it with this request's query.
        const callback = new URL(oidc.redirectUri);
        callback.search = url.search;
        const r = await oidc.finish(callback);
        if (!r.ok) {
          res.writeHead(302, { location: `/login?error=${encodeURIComponent(r.reason)}` }).end();
          return;
        }
        res
          .writeHead(302, {
            location: r.afterLogin,
            'set-cookie': sessionCookie(r.token, (r.expiresAt - Date.now()) / 1000, {
              sameSite: 'Lax',
              secure: secureCookies,
            }),
          })
          .end();
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    } catch (err) {
      opts.log.warn({ err: (err as Error).message }, 'OpenID Connect sign-in failed');
      res
        .writeHead(302, {
          location: `/login?error=${encodeURIComponent('sign-in with your organisation failed')}`,
        })
        .end();
    }
  };

  const webhook = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    tenantId: string,
    source: string,
    ip: string,
  ) => {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_WEBHOOK_BYTES) {
          res.writeHead(413, { 'content-type': 'application/json' }).end('{"error":"payload too large"}');
          req.destroy();
          return;
        }
        chunks.push(chunk as Buffer);
      }
      const sig = req.headers[SIGNATURE_HEADER];
      const answer = await receiveWebhook(opts.pool, opts.secretBox, {
        tenantId,
        source,
        signature: Array.isArray(sig) ? sig[0] : sig,
        body: Buffer.concat(chunks),
        ip,
      });
      res
        .writeHead(answer.status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ message: answer.message }));
    } catch (err) {
      opts.log.error({ err: (err as Error).message, tenantId, source }, 'webhook failed');
      if (!res.headersSent)
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal error"}');
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: opts.port, host: opts.host, backlog: LISTEN_BACKLOG }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host}:${port}`;
  opts.log.info({ url }, 'api listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        if (heartbeat) clearInterval(heartbeat);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  } satisfies ApiServer;
}

/** Resolves when the response's socket can take more, or the response is gone. */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
