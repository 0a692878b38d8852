/**
 * The driver's pre-trip defect reports wait here like refuels do (queue.ts, sync.ts): in
 * IndexedDB until the cloud confirms them, sent with the UUID made when the driver pressed
 * "Submit inspection", which is the cloud's idempotency key (maintenance.reportDefect), so a
 * resend (lost answer, two tabs) never files a second report or opens a second work order.
 *
 *   form --enqueue (UUID now)--> IndexedDB --send (same UUID every try)--> maintenance.reportDefect
 *                                   ^                                            |
 *                                   +------- removed only on the server's yes ---+
 *
 * Its own database (not the refuel outbox's), so the service worker's refuel store and its
 * version stay as they are.
 */
import type { AppRouter } from '@fleet/cloud/api';
import type { TRPCClient } from '@trpc/client';
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';

export type DefectReportInput = Parameters<TRPCClient<AppRouter>['maintenance']['reportDefect']['mutate']>[0];
export type ChecklistItem = DefectReportInput['items'][number]['item'];

export const DEFECT_DB_NAME = 'fleet-driver-defects';
const STORE = 'defect-outbox';
const LOCK_NAME = 'fleet-defect-outbox';

export interface QueuedDefectReport {
  clientId: string;
  userId: string;
  vehicleId: string;
  ts: number;
  items: DefectReportInput['items'];
  note: string | null;
  queuedAt: number;
  attempts: number;
  /** Why the cloud refused it for good; null while it waits for a connection. */
  rejected: string | null;
}

interface Schema extends DBSchema {
  [STORE]: { key: string; value: QueuedDefectReport; indexes: { byQueuedAt: number } };
}

let opening: Promise<IDBPDatabase<Schema>> | null = null;
function db(): Promise<IDBPDatabase<Schema>> {
  opening ??= openDB<Schema>(DEFECT_DB_NAME, 1, {
    upgrade(database) {
      database.createObjectStore(STORE, { keyPath: 'clientId' }).createIndex('byQueuedAt', 'queuedAt');
    },
    blocking() {
      void opening?.then((d) => d.close());
      opening = null;
    },
  });
  return opening;
}

export async function enqueueDefectReport(
  report: Pick<QueuedDefectReport, 'items' | 'note' | 'ts'>,
  who: { userId: string; vehicleId: string },
): Promise<QueuedDefectReport> {
  const entry: QueuedDefectReport = {
    ...report,
    clientId: crypto.randomUUID(),
    userId: who.userId,
    vehicleId: who.vehicleId,
    queuedAt: Date.now(),
    attempts: 0,
    rejected: null,
  };
  await (await db()).add(STORE, entry);
  return entry;
}

export async function listQueuedDefects(): Promise<QueuedDefectReport[]> {
  return (await db()).getAllFromIndex(STORE, 'byQueuedAt');
}

export async function removeQueuedDefect(clientId: string): Promise<void> {
  await (await db()).delete(STORE, clientId);
}

async function noteAttempt(clientId: string, rejected: string | null): Promise<void> {
  const database = await db();
  const tx = database.transaction(STORE, 'readwrite');
  const entry = await tx.store.get(clientId);
  if (entry) await tx.store.put({ ...entry, attempts: entry.attempts + 1, rejected });
  await tx.done;
}

export function defectReportInput(e: QueuedDefectReport): DefectReportInput {
  return {
    clientId: e.clientId,
    vehicleId: e.vehicleId,
    ts: e.ts,
    items: e.items,
    ...(e.note ? { note: e.note } : {}),
  };
}

export interface DefectSyncResult {
  sent: number;
  /** Work orders the sent reports opened. */
  workOrders: number;
  rejected: number;
  waiting: number;
}

async function sendAll(userId: string, fetchImpl: typeof fetch): Promise<DefectSyncResult> {
  const result: DefectSyncResult = { sent: 0, workOrders: 0, rejected: 0, waiting: 0 };
  // Only the driver who filed it may send it: another session would file it under their name.
  const pending = (await listQueuedDefects()).filter((e) => e.rejected === null && e.userId === userId);
  for (const [i, entry] of pending.entries()) {
    let res: Response;
    try {
      res = await fetchImpl('/api/trpc/maintenance.reportDefect', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(defectReportInput(entry)),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch {
      await noteAttempt(entry.clientId, null);
      result.waiting += pending.length - i;
      return result;
    }
    if (res.ok) {
      const body = (await res.json().catch(() => ({}))) as {
        result?: { data?: { report?: { workOrderId?: number | null } } };
      };
      await removeQueuedDefect(entry.clientId);
      result.sent++;
      if (body.result?.data?.report?.workOrderId) result.workOrders++;
      continue;
    }
    if (res.status === 401 || res.status === 408 || res.status === 429 || res.status >= 500) {
      await noteAttempt(entry.clientId, null);
      result.waiting += pending.length - i;
      return result;
    }
    const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    await noteAttempt(entry.clientId, body.error?.message ?? `refused (HTTP ${res.status})`);
    result.rejected++;
  }
  return result;
}

/** One sender at a time across tabs (Web Locks where there are any; a race costs a request, never a row). */
export async function syncDefectReports(
  userId: string,
  fetchImpl: typeof fetch = fetch.bind(globalThis),
): Promise<DefectSyncResult> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return sendAll(userId, fetchImpl);
  return locks.request(LOCK_NAME, () => sendAll(userId, fetchImpl));
}
