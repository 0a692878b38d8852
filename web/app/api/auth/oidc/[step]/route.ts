/*
 * browser --/api/auth/oidc/{start,callback}?...--> this handler --> ${FLEET_API_URL}/auth/oidc/...
 *         <------------- the cloud's redirect (Location) and session cookie (Set-Cookie) ---------
 *
 * OpenID Connect sign-in stays on this origin like everything else: the identity provider
 * redirects back to https://<this app>/api/auth/oidc/callback (FLEET_OIDC_REDIRECT_URI), and the
 * session cookie is set for this app's host.
 */
import type { NextRequest } from 'next/server';

export const dynamic = 'force-dynamic';

const STEPS = new Set(['start', 'callback']);

export async function GET(req: NextRequest, { params }: { params: Promise<{ step: string }> }) {
  const { step } = await params;
  if (!STEPS.has(step)) return new Response('not found', { status: 404 });
  const api = (process.env.FLEET_API_URL || 'http://127.0.0.1:4000').replace(/\/+$/, '');
  let upstream: Response;
  try {
    upstream = await fetch(`${api}/auth/oidc/${step}${req.nextUrl.search}`, {
      redirect: 'manual',
      cache: 'no-store',
    });
  } catch {
    return Response.redirect(new URL('/login?error=the%20fleet%20API%20is%20unreachable', req.url), 302);
  }
  const headers = new Headers({ 'cache-control': 'no-store' });
  const location = upstream.headers.get('location');
  if (location) headers.set('location', new URL(location, req.url).toString());
  for (const c of upstream.headers.getSetCookie()) headers.append('set-cookie', c);
  return new Response(null, { status: upstream.status, headers });
}
