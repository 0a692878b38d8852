'use client';

/**
 * The driver home page's data and actions: who is signed in, their vehicle, score, refuels,
 * programme and the rest (each with how fresh it is: the service worker may answer from its
 * cache), the phone's outbox of refuels waiting to be sent, and what to announce to a screen reader.
 *
 *   load (page open, every 30 s, back online) ──▶ driverHome.get: everything the cards show, in one
 *     answer and one render (a phone pays a long task per answer rendered; the HTML preloads it)
 *   log a refuel ──▶ outbox (IndexedDB) ──▶ sync (now, back online, Background Sync) ──▶ refuels.log
 *     (+ receipt photo as a Blob in the same entry)                          ──▶ PUT /api/receipts/<uuid>
 */
import { type RefObject, startTransition, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { clearDriverData } from '../../lib/offline/caches.ts';
import {
  enqueueRefuel,
  listQueued,
  type QueuedRefuel,
  type RefuelDraft,
  removeQueued,
} from '../../lib/offline/queue.ts';
import type { QueuedReceipt } from '../../lib/offline/receipt.ts';
import { REFUEL_SYNC_TAG, syncRefuels } from '../../lib/offline/sync.ts';
import { driverApi, errorCode, type Freshness, isNetworkFailure, readWithFreshness } from './driver-api.ts';
import type { DriverText } from './i18n/i18n.ts';

/** Refresh period while the page is open: a phone on a weak signal, not a dashboard. */
const REFRESH_MS = 30_000;
/** Which user's data the caches hold (cleared when someone else signs in on this phone). */
const LAST_USER_KEY = 'fleet-driver-last-user';

export type Home = Awaited<ReturnType<typeof driverApi.driverHome.get.query>>;
export type Me = Home['me'];
export type Preferences = NonNullable<Home['preferences']>;
export type Score = NonNullable<Home['score']>;
export type Refuel = NonNullable<Home['refuels']>[number];
export type Allowed = NonNullable<Home['vehicles']>;
export type Loaded<T> = { data: T } & Freshness;
/** The programme card's parts of the home read, with its freshness. */
export type Programme = Pick<Home, 'points' | 'challenges' | 'progress' | 'rewards'> & Freshness;

/**
 * Someone signed in who is not a driver (a manager opening /driver): the home read refuses them,
 * so the page knows only who they are and their preferences, and shows no driver's card.
 */
function notADriver(me: Me, preferences: Preferences | null): Home {
  return {
    me,
    preferences,
    vehicle: null,
    score: null,
    burnHistory: null,
    refuels: null,
    vehicles: null,
    rollingScore: null,
    explain: null,
    disputes: null,
    points: null,
    challenges: null,
    progress: [],
    rewards: null,
    push: null,
  };
}

export function useOnline(): boolean {
  const [online, setOnline] = useState(true);
  useEffect(() => {
    // Online is what the server rendered: only an offline phone changes it (no render otherwise).
    if (!navigator.onLine) startTransition(() => setOnline(false));
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

function sameOutbox(a: readonly QueuedRefuel[], b: readonly QueuedRefuel[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (e, i) =>
        e.clientId === b[i]!.clientId && e.attempts === b[i]!.attempts && e.rejected === b[i]!.rejected,
    )
  );
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

/**
 * The new answer, with each part that did not change replaced by the one shown (the same object):
 * the page reads every 30 s, and a card whose data is the same then renders nothing new.
 */
function keepUnchanged(shown: Home | undefined, next: Home): Home {
  if (!shown) return next;
  const kept = { ...next } as Record<keyof Home, unknown>;
  for (const key of Object.keys(next) as (keyof Home)[])
    if (JSON.stringify(shown[key]) === JSON.stringify(next[key])) kept[key] = shown[key];
  return kept as Home;
}

/**
 * The cards' props, made once per answer (the cards are memoised: an answer re-renders the cards,
 * a render of the page for anything else re-renders none of them).
 */
function cardsOf(home: Loaded<Home>) {
  const fresh: Freshness = { stale: home.stale, fetchedAt: home.fetchedAt };
  const loaded = <T>(data: T | null): Loaded<T> | null => (data === null ? null : { data, ...fresh });
  const d = home.data;
  return {
    vehicle: loaded(d.vehicle),
    score: loaded(d.score),
    burnHistory: d.burnHistory,
    refuels: loaded(d.refuels),
    // Choosing a vehicle needs the cloud: the list is not offered from the offline copy.
    vehicles: home.stale ? null : d.vehicles,
    // data null: answered without it (the card says it is unavailable).
    fairScore: { data: d.rollingScore, ...fresh },
    explain: d.explain,
    disputes: d.disputes,
    programme: {
      points: d.points,
      challenges: d.challenges,
      progress: d.progress,
      rewards: d.rewards,
      ...fresh,
    } satisfies Programme,
    push: d.push,
  };
}

export function useDriverHome(textRef: RefObject<DriverText>) {
  const [home, setHome] = useState<Loaded<Home> | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [outbox, setOutbox] = useState<QueuedRefuel[] | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const meRef = useRef<Me | null>(null);
  // Reads may overlap (the timer, back online, after a save): an answer older than the one shown
  // is dropped.
  const started = useRef(0);
  const shown = useRef(0);

  // The same entries in the same state keep the array shown: no render for a read that found
  // nothing new (the page reads the outbox after every load and sync).
  const showOutbox = useCallback((entries: QueuedRefuel[]) => {
    setOutbox((shown) => (shown !== null && sameOutbox(shown, entries) ? shown : entries));
  }, []);

  const refreshOutbox = useCallback(async () => {
    const mine = meRef.current;
    if (!mine) return;
    showOutbox((await listQueued()).filter((e) => e.userId === mine.userId));
  }, [showOutbox]);

  /** Someone who is not a driver: who they are and their preferences, read on their own. */
  const loadNotADriver = useCallback(async () => {
    const [who, preferences] = await Promise.allSettled([
      readWithFreshness('auth.me', () => driverApi.auth.me.query()),
      driverApi.auth.preferences.query(),
    ]);
    if (who.status === 'rejected') throw who.reason;
    meRef.current = who.value.data;
    startTransition(() => {
      setHome({
        ...who.value,
        data: notADriver(who.value.data, preferences.status === 'fulfilled' ? preferences.value : null),
      });
      setProblem(null);
    });
  }, []);

  const load = useCallback(async (): Promise<void> => {
    const id = ++started.current;
    const [queued, read] = await Promise.allSettled([
      listQueued(),
      readWithFreshness('driverHome.get', () => driverApi.driverHome.get.query()),
    ]);
    if (read.status === 'rejected') {
      let error: unknown = read.reason;
      if (errorCode(error) === 'FORBIDDEN') {
        try {
          await loadNotADriver();
          return;
        } catch (e) {
          error = e;
        }
      }
      if (errorCode(error) === 'UNAUTHORIZED') {
        await clearDriverData();
        window.location.assign('/login');
        return;
      }
      // A read that fails keeps what is shown; the freshness lines say how old it is.
      setProblem(
        isNetworkFailure(error)
          ? textRef.current.t('problem.offlineNoCopy')
          : textRef.current.t('problem.loadFailed', {
              reason: error instanceof Error ? error.message : textRef.current.t('common.unknownError'),
            }),
      );
      return;
    }
    if (id < shown.current) return;
    shown.current = id;
    const answer = read.value;
    const who = answer.data.me;
    let cleared = false;
    if (!answer.stale) {
      // Another user signed in on this phone: the previous user's cached answers must go.
      const last = window.localStorage.getItem(LAST_USER_KEY);
      if (last !== null && last !== who.userId) {
        await clearDriverData();
        cleared = true;
      }
      window.localStorage.setItem(LAST_USER_KEY, who.userId);
    }
    meRef.current = who;
    // Every card's data in one render: one commit and one layout. A transition: React renders it
    // in slices that yield to input and paint (a plain update renders in one task).
    startTransition(() => {
      setHome((shown) => ({ ...answer, data: keepUnchanged(shown?.data, answer.data) }));
      setProblem(null);
      if (queued.status === 'fulfilled') showOutbox(queued.value.filter((e) => e.userId === who.userId));
    });
    // The worker's copy went with the previous user's data: read again, so offline has this one.
    if (cleared) void driverApi.driverHome.get.query().catch(() => {});
  }, [showOutbox, loadNotADriver, textRef]);

  const sync = useCallback(async () => {
    if (!meRef.current || !navigator.onLine) return;
    const result = await syncRefuels();
    await refreshOutbox();
    if (result.sent > 0) {
      setAnnouncement(textRef.current.t('announce.refuelsSent', { n: result.sent }));
      await load();
    }
    if (result.rejected > 0)
      setAnnouncement(textRef.current.t('announce.refuelsRejected', { n: result.rejected }));
  }, [load, refreshOutbox, textRef]);

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
        void load();
      }
    };
    navigator.serviceWorker?.addEventListener('message', fromWorker);
    return () => {
      clearInterval(timer);
      window.removeEventListener('online', back);
      navigator.serviceWorker?.removeEventListener('message', fromWorker);
    };
  }, [load, sync, refreshOutbox]);

  // The actions are stable (useCallback): the cards are memoised and re-render only on new props.
  const logRefuel = useCallback(
    async (draft: RefuelDraft, receipt: QueuedReceipt | null = null) => {
      const who = meRef.current;
      if (!who?.vehicleId) return;
      await enqueueRefuel(draft, { userId: who.userId, vehicleId: who.vehicleId }, receipt);
      await refreshOutbox();
      setAnnouncement(
        navigator.onLine
          ? textRef.current.t('announce.refuelSavedOnline')
          : textRef.current.t('announce.refuelSavedOffline'),
      );
      await requestBackgroundSync();
      await sync();
    },
    [refreshOutbox, sync, textRef],
  );

  const discard = useCallback(
    async (clientId: string) => {
      await removeQueued(clientId);
      await refreshOutbox();
      setAnnouncement(textRef.current.t('announce.refuelRemoved'));
    },
    [refreshOutbox, textRef],
  );

  const signOut = useCallback(async () => {
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
  }, [textRef]);

  /** Reads everything again after the vehicle changed (a check-in), and says so. */
  const vehicleChanged = useCallback(
    async (message: string) => {
      setHome((shown) => (shown ? { ...shown, data: { ...shown.data, vehicle: null } } : shown));
      await load();
      setAnnouncement(message);
    },
    [load],
  );

  /** Reads everything again after a card changed something (a reward asked for, a dispute filed). */
  const reload = useCallback(() => load(), [load]);

  const cards = useMemo(() => (home ? cardsOf(home) : null), [home]);
  return {
    me: home?.data.me ?? null,
    preferences: home?.data.preferences ?? null,
    problem,
    cards,
    reload,
    vehicleChanged,
    outbox,
    announcement,
    /** Another card's news for the screen reader (the defect report's outbox). */
    announce: setAnnouncement,
    logRefuel,
    discard,
    signOut,
  };
}
