/*
 * browser --PUT|GET /api/receipts/<id>--> this handler --${FLEET_API_URL}/receipts/<id>--> cloud
 *         <------- status, image or JSON answer ------------------------------------------
 *
 * Refuel receipt photos (cloud/src/api/receipt-route.ts): the driver PWA's outbox PUTs the raw
 * JPEG with the refuel's UUID in the path; /fuel shows a refuel's receipt by its log id. Like
 * /api/trpc, the browser talks to this origin only (same CSP, no CORS) and the session cookie is
 * what the cloud checks.
 */
import type { NextRequest } from 'next/server';

export const dynamic = 'force-dynamic';

const DEFAULT_FLEET_API_URL = 'http://127.0.0.1:4000';
/** The cloud refuses more than 2 MB; far past that, the upload is not even buffered here. */
const MAX_FORWARDED_BYTES = 8 * 1024 * 1024;
const FORWARDED_REQUEST_HEADERS = [
  'content-type',
  'authorization',
  'cookie',
  'x-receipt-id',
  'x-content-sha256',
  'x-forwarded-for',
] as const;
const FORWARDED_RESPONSE_HEADERS = [
  'content-type',
  'cache-control',
  'x-content-sha256',
  'retry-after',
] as const;

const json = (status: number, message: string) =>
  Response.json({ error: { message } }, { status, headers: { 'cache-control': 'no-store' } });

async function forward(req: NextRequest, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await ctx.params;
  if (!/^([0-9a-fA-F-]{36}|\d{1,18})$/.test(id)) return json(404, 'no such receipt');
  if (Number(req.headers.get('content-length') ?? 0) > MAX_FORWARDED_BYTES)
    return json(413, 'the receipt is too large; at most 2097152 bytes (2 MB) are accepted');
  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const apiUrl = (process.env.FLEET_API_URL || DEFAULT_FLEET_API_URL).replace(/\/+$/, '');
  let upstream: Response;
  try {
    upstream = await fetch(`${apiUrl}/receipts/${id}`, {
      method: req.method,
      headers,
      // A compressed photo is ~100-300 kB: buffered, like the tRPC proxy's bodies.
      body: req.method === 'PUT' ? await req.arrayBuffer() : undefined,
      cache: 'no-store',
      redirect: 'manual',
      signal: req.signal,
    });
  } catch {
    if (req.signal.aborted) return new Response(null, { status: 499 });
    return json(502, 'The fleet API is unreachable.');
  }
  const responseHeaders = new Headers({ 'cache-control': 'no-store' });
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const v = upstream.headers.get(name);
    if (v) responseHeaders.set(name, v);
  }
  return new Response(upstream.body, { status: upstream.status, headers: responseHeaders });
}

export const GET = forward;
export const PUT = forward;
