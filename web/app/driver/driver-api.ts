/**
 * The driver page's tRPC client. Unbatched (httpLink), so each read is its own URL that the
 * service worker can cache network-first (sw/sw.ts), and each answer says where it came from:
 * the worker marks a cached answer `x-fleet-from-cache` and stamps when it was fetched. The page's
 * first paint is one read, driverHome.get (no input: one URL), which its HTML preloads.
 */
import type { AppRouter } from '@fleet/cloud/api';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';

export interface Freshness {
  /** Served by the service worker from its cache because the network did not answer. */
  stale: boolean;
  /** Epoch ms when this data came from the cloud. */
  fetchedAt: number;
}

const TRPC_PREFIX = '/api/trpc/';
/** The home page's one read (cloud/src/api/routers/driver-home.ts), as page.tsx preloads it. */
export const HOME_READ_URL = `${TRPC_PREFIX}driverHome.get`;
const lastAnswer = new Map<string, Freshness>();

async function recordingFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input), window.location.href);
  const stale = response.headers.get('x-fleet-from-cache') === '1';
  const cachedAt = Number(response.headers.get('x-fleet-cached-at'));
  lastAnswer.set(url.pathname.slice(TRPC_PREFIX.length), {
    stale,
    fetchedAt: stale && Number.isFinite(cachedAt) && cachedAt > 0 ? cachedAt : Date.now(),
  });
  return response;
}

export const driverApi = createTRPCClient<AppRouter>({
  links: [httpLink({ url: '/api/trpc', fetch: recordingFetch })],
});

/** Calls one read and says how fresh its answer is (`path` is the procedure, e.g. "vehicles.get"). */
export async function readWithFreshness<T>(
  path: string,
  call: () => Promise<T>,
): Promise<{ data: T } & Freshness> {
  const data = await call();
  return { data, ...(lastAnswer.get(path) ?? { stale: false, fetchedAt: Date.now() }) };
}

export function errorCode(error: unknown): string | undefined {
  return error instanceof TRPCClientError ? (error.data as { code?: string } | undefined)?.code : undefined;
}

/** No answer at all (offline and nothing cached), as opposed to an answer that says no. */
export function isNetworkFailure(error: unknown): boolean {
  return error instanceof TRPCClientError
    ? error.data === undefined || error.data === null
    : error instanceof TypeError;
}
