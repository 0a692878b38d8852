/**
 * The dashboard's first view, read on the server while the page renders: the vehicles and the
 * fleet overview arrive in the HTML, so a phone shows them at first paint instead of after its
 * scripts have loaded and made the same call (fleet-overview.tsx then keeps them live as before).
 *
 * Same cloud API and same session as the browser's own calls through /api/trpc: the request's
 * cookie (and client address, for the API's per-client limits) go along. Anything but an answer
 * (not signed in, cloud down or slow) gives null, and the page starts as it did before: empty,
 * with the browser's first poll deciding (sign-in page, outage message).
 */
import type { AppRouter } from '@fleet/shared/api';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { headers } from 'next/headers';
import type { FleetSnapshot } from './fleet-overview.tsx';

const DEFAULT_FLEET_API_URL = 'http://127.0.0.1:4000';
/** A page that waits on a slow cloud is worse than one that fills in a moment later. */
const SERVER_READ_TIMEOUT_MS = 1500;

export async function readFleetSnapshot(limit: number): Promise<FleetSnapshot | null> {
  const incoming = await headers();
  const cookie = incoming.get('cookie');
  if (!cookie) return null;
  const forwarded: Record<string, string> = { cookie };
  const client = incoming.get('x-forwarded-for');
  if (client) forwarded['x-forwarded-for'] = client;
  const api = createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${(process.env.FLEET_API_URL || DEFAULT_FLEET_API_URL).replace(/\/+$/, '')}/trpc`,
        headers: forwarded,
      }),
    ],
  });
  const signal = AbortSignal.timeout(SERVER_READ_TIMEOUT_MS);
  try {
    const [vehicles, fleet] = await Promise.all([
      api.vehicles.list.query({ limit }, { signal }),
      api.telemetry.fleet.query({ limit }, { signal }),
    ]);
    return { vehicles, fleet, refreshedAt: Date.now() };
  } catch {
    return null;
  }
}
