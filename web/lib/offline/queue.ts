/**
 * The driver's outbox: refuels logged on the phone wait here (IndexedDB, so they survive a reload,
 * a closed tab and a dead battery) until the cloud confirms them.
 *
 *   form --enqueue (UUID made now)--> IndexedDB --send (same UUID every try)--> refuels.log
 *                                        ^                                        |
 *                                        +---- removed only on the server's yes --+
 *
 * The page and the service worker (Background Sync) both open this database; the UUID is the
 * cloud's idempotency key, so two senders racing for one entry still make one row.
 */
import type { AppRouter } from '@fleet/cloud/api';
import type { TRPCClient } from '@trpc/client';
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { QueuedReceipt } from './receipt.ts';

/** The API's fuel types (cloud/src/api/routers/refuels.ts), checked against its input type. */
export type FuelType = Parameters<TRPCClient<AppRouter>['refuels']['log']['mutate']>[0]['fuelType'];

export const QUEUE_DB_NAME = 'fleet-driver';
const QUEUE_DB_VERSION = 1;
const STORE = 'refuel-outbox';

/** What the driver typed, in the units the API takes. */
export interface RefuelDraft {
  /** Epoch ms of the refuel (the driver may log one from earlier in the day). */
  ts: number;
  litres: number;
  /** Total paid, in `currency`; null when the driver did not enter it. */
  amount: number | null;
  currency: string | null;
  fuelType: FuelType;
  station: string | null;
  odometerKm: number | null;
}

export interface QueuedRefuel extends RefuelDraft {
  /** Made when the driver pressed "Log refuel", before any network: the idempotency key. */
  clientId: string;
  /** Who logged it: only that user's session may send it (a shared phone must not mix drivers). */
  userId: string;
  vehicleId: string;
  /** Epoch ms when it entered the outbox. */
  queuedAt: number;
  attempts: number;
  /** Epoch ms of the last try, or null before the first. */
  lastAttemptAt: number | null;
  /**
   * Why the cloud refused it for good (bad input): it stays visible, marked, until the driver
   * removes it. Null while it is merely waiting for a connection.
   */
  rejected: string | null;
  /**
   * The receipt photo (receipt.ts), kept in the same entry as a Blob: it leaves the phone after
   * its refuel and the entry is removed only when both are confirmed. Absent in entries queued
   * before photos existed.
   */
  receipt?: QueuedReceipt | null;
}

interface QueueSchema extends DBSchema {
  [STORE]: { key: string; value: QueuedRefuel; indexes: { byQueuedAt: number } };
}

let opening: Promise<IDBPDatabase<QueueSchema>> | null = null;

function db(): Promise<IDBPDatabase<QueueSchema>> {
  opening ??= openDB<QueueSchema>(QUEUE_DB_NAME, QUEUE_DB_VERSION, {
    upgrade(database) {
      const store = database.createObjectStore(STORE, { keyPath: 'clientId' });
      store.createIndex('byQueuedAt', 'queuedAt');
    },
    // Another tab or the worker upgrades: let go, the next call opens the new version.
    blocking() {
      void opening?.then((d) => d.close());
      opening = null;
    },
  });
  return opening;
}

export async function enqueueRefuel(
  draft: RefuelDraft,
  who: { userId: string; vehicleId: string },
  receipt: QueuedReceipt | null = null,
): Promise<QueuedRefuel> {
  const entry: QueuedRefuel = {
    ...draft,
    receipt,
    clientId: crypto.randomUUID(),
    userId: who.userId,
    vehicleId: who.vehicleId,
    queuedAt: Date.now(),
    attempts: 0,
    lastAttemptAt: null,
    rejected: null,
  };
  await (await db()).add(STORE, entry);
  return entry;
}

/** Oldest first: they are sent in the order they were logged. */
export async function listQueued(): Promise<QueuedRefuel[]> {
  return (await db()).getAllFromIndex(STORE, 'byQueuedAt');
}

/** Only after the cloud has confirmed the row (or the driver discards a rejected entry). */
export async function removeQueued(clientId: string): Promise<void> {
  await (await db()).delete(STORE, clientId);
}

/** Counts a try; `rejected` marks a refusal that no retry can fix. A vanished entry is left vanished. */
export async function noteAttempt(clientId: string, rejected: string | null): Promise<void> {
  const database = await db();
  const tx = database.transaction(STORE, 'readwrite');
  const entry = await tx.store.get(clientId);
  if (entry) {
    await tx.store.put({ ...entry, attempts: entry.attempts + 1, lastAttemptAt: Date.now(), rejected });
  }
  await tx.done;
}
