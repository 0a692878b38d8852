/**
 * Runs before every page and API route (Next 16's successor to middleware): a fresh nonce per
 * request and a strict Content-Security-Policy built on it, plus the other security headers.
 * Next reads the nonce from the request's CSP header and puts it on its own inline scripts, so
 * pages must render per request (the root layout reads headers()). Nothing is loaded from
 * another origin: no CDN, no font or tile server (the product works offline and on a closed network).
 */
import { type NextRequest, NextResponse } from 'next/server';

/** The origin of FLEET_TILE_URL (a production map tile server), allowed as an image source. */
function tileOrigin(): string {
  const url = process.env.FLEET_TILE_URL;
  if (!url) return '';
  try {
    // Leaflet's {s} subdomains become a CSP host wildcard (https://*.tile.example.org).
    const origin = new URL(url.replace('{s}', 'subdomain-wildcard').replace(/[{}]/g, '')).origin;
    return ` ${origin.replace('subdomain-wildcard', '*')}`;
  } catch {
    return '';
  }
}

export function contentSecurityPolicy(nonce: string, dev = process.env.NODE_ENV === 'development'): string {
  return [
    "default-src 'self'",
    // 'unsafe-eval' only for the development server's hot reload, never in a build.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ''}`,
    `style-src 'self' 'nonce-${nonce}'`,
    `img-src 'self' data: blob:${tileOrigin()}`,
    "font-src 'self'",
    "connect-src 'self'",
    // The service workers (/sw.js for the driver PWA, /push-sw.js for alerts) and the manifest: this origin only.
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function proxy(request: NextRequest) {
  const nonce = Buffer.from(crypto.randomUUID()).toString('base64');
  const csp = contentSecurityPolicy(nonce);
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set('x-nonce', nonce);
  requestHeaders.set('content-security-policy', csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set('content-security-policy', csp);
  response.headers.set('x-content-type-options', 'nosniff');
  response.headers.set('x-frame-options', 'DENY');
  response.headers.set('referrer-policy', 'no-referrer');
  response.headers.set('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  response.headers.set('cross-origin-opener-policy', 'same-origin');
  return response;
}

export const config = {
  // Static assets carry no HTML: no nonce needed there.
  matcher: [{ source: '/((?!_next/static|_next/image|favicon.ico).*)' }],
};
