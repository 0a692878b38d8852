/*
 * browser --/api/trpc/<paths>?<query>--> this handler --${FLEET_API_URL}/trpc/<paths>?<query>--> cloud
 *         <------- status, content-type, body streamed back unchanged -------------------------
 *
 * The browser never learns where the cloud lives (and needs no CORS): it only talks to this origin.
 * tRPC over HTTP is plain GET (queries, input in the query string) and POST (mutations, JSON body),
 * so forwarding method, path, query, body and content-type is the whole protocol.
 */
import { createLogger, safeUrl } from '@fleet/shared/log';
import type { NextRequest } from 'next/server';

// Every answer is live data and FLEET_API_URL is a deployment setting, not a build input.
export const dynamic = 'force-dynamic';

const DEFAULT_FLEET_API_URL = 'http://127.0.0.1:4000';
const ROUTE_PREFIX = '/api/trpc';
/** How long to wait for the cloud's response headers; the body may then stream for longer. */
const UPSTREAM_HEADERS_TIMEOUT_MS = 10_000;
/** While the cloud stays down, repeat the warning at most this often (dashboards poll at 1 Hz). */
const OUTAGE_LOG_INTERVAL_MS = 60_000;
/**
 * What the cloud needs to answer: the session cookie included (the cloud checks it); host and
 * the like stay on this side. The cloud's Set-Cookie comes back, so the session cookie belongs
 * to this origin, httpOnly, and the browser never talks to the cloud directly.
 */
const FORWARDED_REQUEST_HEADERS = [
  'accept',
  'content-type',
  'trpc-accept',
  'authorization',
  'cookie',
  // The browser's address as the Next server saw it (Next sets it from the socket unless the
  // client sent one): the API's per-IP limits apply per client. A client can name itself here,
  // so per-user/token limits and account lockout are what do not depend on it.
  'x-forwarded-for',
] as const;

const log = createLogger('web.trpc-proxy');

class UpstreamHeadersTimeout extends Error {}

/** Read on every request, never inlined at build time: one build runs against any cloud. */
function fleetApiUrl(): string {
  return (process.env.FLEET_API_URL || DEFAULT_FLEET_API_URL).replace(/\/+$/, '');
}

/** "/vehicles.list" or, for a batch, "/vehicles.list,vehicles.other". */
function procedurePath(req: NextRequest): string {
  return req.nextUrl.pathname.slice(ROUTE_PREFIX.length);
}

let outage: { since: number; loggedAt: number } | null = null;

function noteUpstreamFailure(apiUrl: string, error: unknown, timedOut: boolean): void {
  const now = Date.now();
  if (outage && now - outage.loggedAt < OUTAGE_LOG_INTERVAL_MS) return;
  outage = { since: outage?.since ?? now, loggedAt: now };
  log.warn(
    { apiUrl: safeUrl(apiUrl), timedOut, since: new Date(outage.since).toISOString(), err: error },
    'fleet API unreachable',
  );
}

function noteUpstreamSuccess(apiUrl: string): void {
  if (!outage) return;
  log.info({ apiUrl: safeUrl(apiUrl), downMs: Date.now() - outage.since }, 'fleet API reachable again');
  outage = null;
}

/**
 * An error the tRPC client parses like one from the cloud itself: the v11 error envelope, one per
 * procedure when the request was a batch (httpBatchLink matches answers to calls by position).
 */
function proxyError(req: NextRequest, httpStatus: 502 | 504, message: string): Response {
  const code = httpStatus === 502 ? 'BAD_GATEWAY' : 'GATEWAY_TIMEOUT';
  let paths: string[];
  try {
    paths = decodeURIComponent(procedurePath(req).replace(/^\//, '')).split(',');
  } catch {
    paths = [''];
  }
  const envelope = (path: string) => ({
    // -32603: the JSON-RPC code tRPC v11 gives both BAD_GATEWAY and GATEWAY_TIMEOUT.
    error: { message, code: -32603, data: { code, httpStatus, path, zodError: null } },
  });
  const isBatch = req.nextUrl.searchParams.get('batch') === '1';
  return Response.json(isBatch ? paths.map(envelope) : envelope(paths[0] ?? ''), {
    status: httpStatus,
    headers: { 'cache-control': 'no-store' },
  });
}

async function forward(req: NextRequest): Promise<Response> {
  const apiUrl = fleetApiUrl();
  const target = `${apiUrl}/trpc${procedurePath(req)}${req.nextUrl.search}`;

  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  // tRPC bodies are small JSON documents: buffering spares undici's streamed-body (duplex) mode.
  const body = req.method === 'GET' ? undefined : await req.arrayBuffer();

  // One signal for both reasons to stop: the browser left, or the cloud is too slow to answer.
  const controller = new AbortController();
  const onClientAbort = () => controller.abort(req.signal.reason);
  req.signal.addEventListener('abort', onClientAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new UpstreamHeadersTimeout()), UPSTREAM_HEADERS_TIMEOUT_MS);

  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: req.method,
      headers,
      body,
      cache: 'no-store',
      redirect: 'manual',
      signal: controller.signal,
    });
  } catch (error) {
    // Nobody is left to read an answer: end quietly, this is not an outage.
    if (req.signal.aborted) return new Response(null, { status: 499 });
    const timedOut = controller.signal.reason instanceof UpstreamHeadersTimeout;
    noteUpstreamFailure(apiUrl, error, timedOut);
    return timedOut
      ? proxyError(req, 504, 'The fleet API did not answer in time.')
      : proxyError(req, 502, 'The fleet API is unreachable.');
  } finally {
    clearTimeout(timer);
  }
  noteUpstreamSuccess(apiUrl);

  // Only headers that describe the body: fetch has already decoded any content-encoding, so
  // content-length and content-encoding from the cloud would be wrong here.
  const responseHeaders = new Headers({
    'content-type': upstream.headers.get('content-type') ?? 'application/json',
    'cache-control': upstream.headers.get('cache-control') ?? 'no-store',
  });
  for (const c of upstream.headers.getSetCookie()) responseHeaders.append('set-cookie', c);
  const retryAfter = upstream.headers.get('retry-after');
  if (retryAfter) responseHeaders.set('retry-after', retryAfter);
  return new Response(upstream.body, { status: upstream.status, headers: responseHeaders });
}

export const GET = forward;
export const POST = forward;
