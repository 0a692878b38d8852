/**
 * Sends the outbox (queue.ts) to the cloud: from the page (on load, on the `online` event, after a
 * submit) and from the service worker (Background Sync). Plain fetch against this app's tRPC
 * endpoint, because the service worker has no React and no tRPC client.
 *
 * An entry leaves the outbox only on the cloud's yes. The cloud keys refuels on the entry's UUID,
 * so a yes that was lost on the way back (weak signal) just means the next try gets the same row.
 * An entry with a receipt photo is done when the photo is confirmed too: the refuel first (the
 * receipt names it), then PUT /api/receipts/<refuel UUID> with the raw JPEG, the receipt's own
 * UUID and its SHA-256 (the cloud keeps one row per receipt UUID and checks the hash).
 */
import type { AppRouter } from '@fleet/cloud/api';
import type { TRPCClient } from '@trpc/client';
import { listQueued, noteAttempt, type QueuedRefuel, removeQueued } from './queue.ts';
import type { QueuedReceipt } from './receipt.ts';

export type RefuelLogInput = Parameters<TRPCClient<AppRouter>['refuels']['log']['mutate']>[0];

export const REFUEL_SYNC_TAG = 'fleet-refuel-outbox';
const LOCK_NAME = 'fleet-refuel-outbox';
const TRPC = '/api/trpc';

export interface SyncResult {
  sent: number;
  /** Refused for good (bad input, not this driver's vehicle): kept, marked, for the driver to see. */
  rejected: number;
  /** Still waiting: no connection, signed out, another driver's entries, or the cloud busy. */
  waiting: number;
  /** Why the run stopped early, if it did. */
  stoppedBy: 'offline' | 'signed-out' | 'server-busy' | null;
}

/** The refuels.log input for one queued entry (cloud/src/api/routers/refuels.ts). */
export function refuelLogInput(entry: QueuedRefuel): RefuelLogInput {
  // Optional fields are left out, not sent as null (the API's zod schema says optional).
  return {
    clientId: entry.clientId,
    vehicleId: entry.vehicleId,
    ts: entry.ts,
    litres: entry.litres,
    fuelType: entry.fuelType,
    ...(entry.amount !== null ? { amount: entry.amount } : {}),
    ...(entry.amount !== null && entry.currency ? { currency: entry.currency } : {}),
    ...(entry.station ? { station: entry.station } : {}),
    ...(entry.odometerKm !== null ? { odometerKm: entry.odometerKm } : {}),
  };
}

interface TrpcErrorBody {
  error?: { message?: string; data?: { code?: string } };
}

/** Who the session cookie belongs to, from the network only; null when signed out or offline. */
async function currentUserId(fetchImpl: typeof fetch): Promise<string | null | 'offline'> {
  let res: Response;
  try {
    res = await fetchImpl(`${TRPC}/auth.me`, { cache: 'no-store', credentials: 'same-origin' });
  } catch {
    return 'offline';
  }
  if (!res.ok) return res.status >= 500 ? 'offline' : null;
  const body = (await res.json()) as { result?: { data?: { userId?: string } } };
  return body.result?.data?.userId ?? null;
}

/** The photo's bytes as they are, not JSON: a third smaller than base64 on a weak signal. */
function sendReceipt(
  fetchImpl: typeof fetch,
  refuelClientId: string,
  receipt: QueuedReceipt,
): Promise<Response> {
  return fetchImpl(`/api/receipts/${refuelClientId}`, {
    method: 'PUT',
    headers: {
      'content-type': receipt.blob.type || 'image/jpeg',
      'x-receipt-id': receipt.id,
      'x-content-sha256': receipt.sha256,
    },
    body: receipt.blob,
    credentials: 'same-origin',
    cache: 'no-store',
  });
}

async function sendAll(fetchImpl: typeof fetch): Promise<SyncResult> {
  const queued = await listQueued();
  const result: SyncResult = { sent: 0, rejected: 0, waiting: 0, stoppedBy: null };
  const pending = queued.filter((e) => e.rejected === null);
  if (pending.length === 0) return result;
  const userId = await currentUserId(fetchImpl);
  if (userId === 'offline' || userId === null) {
    result.waiting = pending.length;
    result.stoppedBy = userId === 'offline' ? 'offline' : 'signed-out';
    return result;
  }
  for (const [i, entry] of pending.entries()) {
    // Only the driver who logged it may send it: another session would file it under their name.
    if (entry.userId !== userId) {
      result.waiting++;
      continue;
    }
    let res: Response;
    try {
      res = await fetchImpl(`${TRPC}/refuels.log`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(refuelLogInput(entry)),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch {
      await noteAttempt(entry.clientId, null);
      result.waiting += pending.length - i;
      result.stoppedBy = 'offline';
      return result;
    }
    if (res.ok && entry.receipt) {
      try {
        res = await sendReceipt(fetchImpl, entry.clientId, entry.receipt);
      } catch {
        await noteAttempt(entry.clientId, null);
        result.waiting += pending.length - i;
        result.stoppedBy = 'offline';
        return result;
      }
    }
    if (res.ok) {
      await removeQueued(entry.clientId);
      result.sent++;
      continue;
    }
    const body = (await res.json().catch(() => ({}))) as TrpcErrorBody;
    if (res.status === 401 || res.status === 408 || res.status === 429 || res.status >= 500) {
      // Not the entry's fault: keep it as it is and try again later.
      await noteAttempt(entry.clientId, null);
      result.waiting += pending.length - i;
      result.stoppedBy = res.status === 401 ? 'signed-out' : 'server-busy';
      return result;
    }
    await noteAttempt(entry.clientId, body.error?.message ?? `refused (HTTP ${res.status})`);
    result.rejected++;
  }
  return result;
}

/**
 * One sender at a time across the page and the service worker (Web Locks where there are any;
 * without them a race costs a second request, never a second row).
 */
export async function syncRefuels(fetchImpl: typeof fetch = fetch.bind(globalThis)): Promise<SyncResult> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return sendAll(fetchImpl);
  return locks.request(LOCK_NAME, () => sendAll(fetchImpl));
}
