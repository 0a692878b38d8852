/*
 * browser --/api/exports/<token>--> this handler --${FLEET_API_URL}/exports/<token>--> cloud
 *         <------- status, file headers, body streamed back as the cloud makes it ---------
 *
 * A mailed report link (cloud/src/reports/schedules/signed-link.ts) opens on the web app's
 * address; the token is the credential (signed, expiring), so no cookie is forwarded. The body is
 * streamed, never buffered: a detail export may be gigabytes.
 */
import type { NextRequest } from 'next/server';

export const dynamic = 'force-dynamic';

const DEFAULT_FLEET_API_URL = 'http://127.0.0.1:4000';

export async function GET(req: NextRequest, ctx: { params: Promise<{ token: string }> }): Promise<Response> {
  const { token } = await ctx.params;
  if (!/^[A-Za-z0-9_.-]{1,600}$/.test(token))
    return Response.json(
      { error: 'link invalid' },
      { status: 403, headers: { 'cache-control': 'no-store' } },
    );
  const apiUrl = (process.env.FLEET_API_URL || DEFAULT_FLEET_API_URL).replace(/\/+$/, '');
  let upstream: Response;
  try {
    upstream = await fetch(`${apiUrl}/exports/${token}`, {
      cache: 'no-store',
      redirect: 'manual',
      signal: req.signal,
      // The client's address for the API's per-IP limit.
      headers: { 'x-forwarded-for': req.headers.get('x-forwarded-for') ?? '' },
    });
  } catch {
    if (req.signal.aborted) return new Response(null, { status: 499 });
    return Response.json({ error: 'The fleet API is unreachable.' }, { status: 502 });
  }
  const headers = new Headers({ 'cache-control': 'no-store' });
  for (const name of ['content-type', 'content-disposition', 'retry-after']) {
    const v = upstream.headers.get(name);
    if (v) headers.set(name, v);
  }
  return new Response(upstream.body, { status: upstream.status, headers });
}
