'use client';

/**
 * The driver home page's data and actions: who is signed in, their vehicle, score and refuels
 * (each with how fresh it is: the service worker may answer from its cache), the phone's outbox
 * of refuels waiting to be sent, and what to announce to a screen reader.
 *
 *   load (page open, every 30 s, back online) ──▶ auth.me ──▶ vehicle, score, fuel history, refuels
 *   log a refuel ──▶ outbox (IndexedDB) ──▶ sync (now, back online, Background Sync) ──▶ refuels.log
 */
import type { VehicleState } from '@fleet/shared';
import { startTransition, useCallback, useEffect, useRef, useState } from 'react';
import { clearDriverData } from '../../lib/offline/caches.ts';
import {
  enqueueRefuel,
  listQueued,
  type QueuedRefuel,
  type RefuelDraft,
  removeQueued,
} from '../../lib/offline/queue.ts';
import { REFUEL_SYNC_TAG, syncRefuels } from '../../lib/offline/sync.ts';
import { driverApi, errorCode, type Freshness, isNetworkFailure, readWithFreshness } from './driver-api.ts';
import type { DriverText } from './i18n/i18n.ts';

/** Refresh period while the page is open: a phone on a weak signal, not a dashboard. */
const REFRESH_MS = 30_000;
/** The range estimate looks at this much history (drivers.score's default period too). */
const HISTORY_MS = 30 * 86_400_000;
/** Which user's data the caches hold (cleared when someone else signs in on this phone). */
const LAST_USER_KEY = 'fleet-driver-last-user';

export type Me = Awaited<ReturnType<typeof driverApi.auth.me.query>>;
export type Score = Awaited<ReturnType<typeof driverApi.drivers.score.query>>;
export type Refuel = Awaited<ReturnType<typeof driverApi.refuels.mine.query>>['items'][number];
export type Loaded<T> = { data: T } & Freshness;

export function useOnline(): boolean {
  const [online, setOnline] = useState(true);
  useEffect(() => {
    setOnline(navigator.onLine);
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    window.addEventListener('online', up);
    window.addEventListener('offline', down);
    return () => {
      window.removeEventListener('online', up);
      window.removeEventListener('offline', down);
    };
  }, []);
  return online;
}

/** Ask the service worker to send the outbox when the link returns, even if the page is closed. */
async function requestBackgroundSync(): Promise<void> {
  const registration = await navigator.serviceWorker?.getRegistration('/driver');
  const sync = (
    registration as
      | (ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } })
      | undefined
  )?.sync;
  await sync?.register(REFUEL_SYNC_TAG).catch(() => {});
}

export function useDriverHome(text: DriverText) {
  // Messages are made in the language of the moment they are said (a ref: no reload on a switch).
  const textRef = useRef(text);
  textRef.current = text;
  const [me, setMe] = useState<Loaded<Me> | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [vehicle, setVehicle] = useState<Loaded<VehicleState> | null>(null);
  const [score, setScore] = useState<Loaded<Score> | null>(null);
  const [burnHistory, setBurnHistory] = useState<{ pct: number }[] | null>(null);
  const [refuels, setRefuels] = useState<Loaded<Refuel[]> | null>(null);
  const [outbox, setOutbox] = useState<QueuedRefuel[] | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const meRef = useRef<Me | null>(null);

  const refreshOutbox = useCallback(async () => {
    const mine = meRef.current;
    if (!mine) return;
    setOutbox((await listQueued()).filter((e) => e.userId === mine.userId));
  }, []);

  const loadRefuels = useCallback(async () => {
    try {
      const r = await readWithFreshness('refuels.mine', () => driverApi.refuels.mine.query());
      setRefuels({ ...r, data: r.data.items });
    } catch {
      // Keep what is shown; the freshness line says how old it is.
    }
  }, []);

  const load = useCallback(async () => {
    let who: Loaded<Me>;
    try {
      who = await readWithFreshness('auth.me', () => driverApi.auth.me.query());
    } catch (error) {
      if (errorCode(error) === 'UNAUTHORIZED') {
        await clearDriverData();
        window.location.assign('/login');
        return;
      }
      setProblem(
        isNetworkFailure(error)
          ? textRef.current.t('problem.offlineNoCopy')
          : textRef.current.t('problem.loadFailed', {
              reason: error instanceof Error ? error.message : textRef.current.t('common.unknownError'),
            }),
      );
      return;
    }
    if (!who.stale) {
      // Another user signed in on this phone: the previous user's cached answers must go.
      const last = window.localStorage.getItem(LAST_USER_KEY);
      if (last !== null && last !== who.data.userId) await clearDriverData();
      window.localStorage.setItem(LAST_USER_KEY, who.data.userId);
    }
    meRef.current = who.data;
    startTransition(() => {
      setMe(who);
      setProblem(null);
    });
    const vehicleId = who.data.vehicleId;
    if (who.data.role !== 'driver' || !vehicleId) return;
    const hour = 3_600_000;
    const to = Math.ceil(Date.now() / hour) * hour;
    // Every read at once, and every answer shown in one render: one commit and one layout instead
    // of one per answer (on a phone each of those is a long task). A read that fails keeps what
    // is shown; the freshness lines say how old it is.
    const [queued, vehicleRead, scoreRead, series, refuelsRead] = await Promise.allSettled([
      listQueued(),
      readWithFreshness('vehicles.get', () => driverApi.vehicles.get.query({ vehicleId })),
      readWithFreshness('drivers.score', () => driverApi.drivers.score.query()),
      driverApi.telemetry.fuelSeries.query({ vehicleId, from: to - HISTORY_MS, to }),
      readWithFreshness('refuels.mine', () => driverApi.refuels.mine.query()),
    ]);
    // A transition: React renders it in slices that yield to input and paint (a plain update
    // renders in one task).
    startTransition(() => {
      if (queued.status === 'fulfilled') setOutbox(queued.value.filter((e) => e.userId === who.data.userId));
      if (vehicleRead.status === 'fulfilled') setVehicle(vehicleRead.value);
      if (scoreRead.status === 'fulfilled') setScore(scoreRead.value);
      if (series.status === 'fulfilled') setBurnHistory(series.value.points);
      if (refuelsRead.status === 'fulfilled')
        setRefuels({ ...refuelsRead.value, data: refuelsRead.value.data.items });
    });
  }, []);

  const sync = useCallback(async () => {
    if (!meRef.current || !navigator.onLine) return;
    const result = await syncRefuels();
    await refreshOutbox();
    if (result.sent > 0) {
      setAnnouncement(textRef.current.t('announce.refuelsSent', { n: result.sent }));
      await loadRefuels();
    }
    if (result.rejected > 0)
      setAnnouncement(textRef.current.t('announce.refuelsRejected', { n: result.rejected }));
  }, [loadRefuels, refreshOutbox]);

  useEffect(() => {
    // Page load is the fallback sender: whatever the outbox holds goes out now.
    void load().then(sync);
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, REFRESH_MS);
    const back = () => void load().then(sync);
    window.addEventListener('online', back);
    const fromWorker = (event: MessageEvent) => {
      if ((event.data as { type?: string } | null)?.type === 'refuel-outbox-synced') {
        void refreshOutbox();
        void loadRefuels();
      }
    };
    navigator.serviceWorker?.addEventListener('message', fromWorker);
    return () => {
      clearInterval(timer);
      window.removeEventListener('online', back);
      navigator.serviceWorker?.removeEventListener('message', fromWorker);
    };
  }, [load, sync, refreshOutbox, loadRefuels]);

  async function logRefuel(draft: RefuelDraft) {
    const who = meRef.current;
    if (!who?.vehicleId) return;
    await enqueueRefuel(draft, { userId: who.userId, vehicleId: who.vehicleId });
    await refreshOutbox();
    setAnnouncement(
      navigator.onLine
        ? textRef.current.t('announce.refuelSavedOnline')
        : textRef.current.t('announce.refuelSavedOffline'),
    );
    await requestBackgroundSync();
    await sync();
  }

  async function discard(clientId: string) {
    await removeQueued(clientId);
    await refreshOutbox();
    setAnnouncement(textRef.current.t('announce.refuelRemoved'));
  }

  async function signOut() {
    try {
      await driverApi.auth.logout.mutate();
    } catch (error) {
      if (isNetworkFailure(error)) {
        setAnnouncement(textRef.current.t('announce.signOutOffline'));
        return;
      }
    }
    // This phone may be handed to someone else: no cached data of this driver stays behind.
    await clearDriverData();
    window.localStorage.removeItem(LAST_USER_KEY);
    window.location.assign('/login');
  }

  /** Reads everything again after the vehicle changed (a check-in), and says so. */
  const vehicleChanged = useCallback(
    async (message: string) => {
      setVehicle(null);
      await load();
      setAnnouncement(message);
    },
    [load],
  );

  return {
    me,
    problem,
    vehicleChanged,
    vehicle,
    score,
    burnHistory,
    refuels,
    outbox,
    announcement,
    /** Another card's news for the screen reader (the defect report's outbox). */
    announce: setAnnouncement,
    logRefuel,
    discard,
    signOut,
  };
}
