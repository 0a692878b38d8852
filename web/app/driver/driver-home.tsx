'use client';

import type { VehicleState } from '@fleet/shared';
import { startTransition, useCallback, useEffect, useRef, useState } from 'react';
import { formatNumber } from '../../lib/format.ts';
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
import { estimateRangeKm, needsRefuel, REFUEL_REMINDER_PCT } from './estimate.ts';
import { RefuelForm } from './refuel-form.tsx';

/** Refresh period while the page is open: a phone on a weak signal, not a dashboard. */
const REFRESH_MS = 30_000;
/** The range estimate looks at this much history (drivers.score's default period too). */
const HISTORY_MS = 30 * 86_400_000;
/** Which user's data the caches hold (cleared when someone else signs in on this phone). */
const LAST_USER_KEY = 'fleet-driver-last-user';

type Me = Awaited<ReturnType<typeof driverApi.auth.me.query>>;
type Score = Awaited<ReturnType<typeof driverApi.drivers.score.query>>;
type Refuel = Awaited<ReturnType<typeof driverApi.refuels.mine.query>>['items'][number];
type Loaded<T> = { data: T } & Freshness;

/**
 * Formatters made on first use and kept: building an Intl formatter is costly on a phone (the
 * first one loads locale data), too costly to do while the page loads its script or per value.
 */
function lazy<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => {
    made ??= make();
    return made;
  };
}
const clock = lazy(
  () => new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false }),
);
const dateTimeFormat = lazy(
  () => new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', hour12: false }),
);
const dateTime = { format: (ms: number) => dateTimeFormat().format(ms) };
const hhmm = (ms: number) => clock().format(ms);
/** Numbers as everywhere else in the app (lib/format.ts keeps one formatter per precision). */
const number = formatNumber;

/** "Last updated 14:05" or, for the service worker's cached copy, "last updated 14:05, offline". */
function FreshnessLine({ of, online }: { of: Freshness | null; online: boolean }) {
  if (!of) return null;
  if (of.stale || !online) {
    return (
      <p className="freshness freshness--stale" data-stale="true">
        <span className="stale-tag">Stale:</span> last updated {hhmm(of.fetchedAt)}, offline
      </p>
    );
  }
  return <p className="freshness">Last updated {hhmm(of.fetchedAt)}</p>;
}

function useOnline(): boolean {
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

export function DriverHome() {
  const online = useOnline();
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
          ? 'You are offline and this phone has no saved copy of your data yet. Connect once to load it.'
          : `Your data could not be loaded: ${error instanceof Error ? error.message : 'unknown error'}.`,
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
      setAnnouncement(`${result.sent === 1 ? 'One refuel' : `${result.sent} refuels`} sent and confirmed.`);
      await loadRefuels();
    }
    if (result.rejected > 0)
      setAnnouncement(
        `${result.rejected === 1 ? 'One refuel was' : `${result.rejected} refuels were`} not accepted; see the list.`,
      );
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
        ? 'Refuel saved on this phone; sending it now.'
        : 'Refuel saved on this phone. It is waiting to sync and will be sent when you are back online.',
    );
    await requestBackgroundSync();
    await sync();
  }

  async function discard(clientId: string) {
    await removeQueued(clientId);
    await refreshOutbox();
    setAnnouncement('Refuel removed from this phone.');
  }

  async function signOut() {
    try {
      await driverApi.auth.logout.mutate();
    } catch (error) {
      if (isNetworkFailure(error)) {
        setAnnouncement('Signing out needs a connection. Try again when you are online.');
        return;
      }
    }
    // This phone may be handed to someone else: no cached data of this driver stays behind.
    await clearDriverData();
    window.localStorage.removeItem(LAST_USER_KEY);
    window.location.assign('/login');
  }

  const level = vehicle?.data.fuelLevelPct ?? null;
  const range = score && burnHistory ? estimateRangeKm(level, score.data.km, burnHistory) : null;
  const lowFuel = needsRefuel(level);
  const waiting = (outbox ?? []).filter((e) => e.rejected === null);
  const rejected = (outbox ?? []).filter((e) => e.rejected !== null);

  return (
    <div className="driver-home">
      <p className={`connection ${online ? 'connection--online' : 'connection--offline'}`} role="status">
        <span aria-hidden="true">{online ? '●' : '○'}</span>{' '}
        {online ? 'Online' : 'Offline: showing the data saved on this phone'}
      </p>
      <p className="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="announcer">
        {announcement}
      </p>
      {problem ? (
        <p className="driver-problem" role="alert">
          {problem}
        </p>
      ) : null}
      {me && (me.data.role !== 'driver' || !me.data.vehicleId) ? (
        <p className="driver-problem">
          This page is for drivers with a vehicle. <a href="/">Open the fleet dashboard</a>.
        </p>
      ) : null}

      <section aria-labelledby="fuel-title" className="card">
        <h2 id="fuel-title">Fuel{vehicle ? ` — ${vehicle.data.vehicleId}` : ''}</h2>
        {vehicle ? (
          <>
            <p className="fuel-level" data-testid="fuel-level" data-value={level ?? ''}>
              {level === null ? 'Fuel level not reported yet' : `${number(level)} % in the tank`}
            </p>
            {level !== null ? (
              <div className="fuel-bar" aria-hidden="true">
                <div className="fuel-bar__fill" style={{ width: `${Math.max(0, Math.min(100, level))}%` }} />
              </div>
            ) : null}
            <p data-testid="range">
              Range:{' '}
              {range === null
                ? 'not enough driving in the last 30 days to estimate'
                : `about ${number(range)} km`}
            </p>
            {lowFuel ? (
              <p className="reminder" role="note" data-testid="refuel-reminder">
                <strong>Refuel reminder:</strong> the tank is below {REFUEL_REMINDER_PCT} %. Plan a stop at
                the next station.
              </p>
            ) : null}
            <FreshnessLine of={vehicle} online={online} />
          </>
        ) : (
          // The same lines as the answer will fill (level, gauge, range, freshness): the cards
          // below do not jump when it arrives (layout shift).
          <>
            <p className="fuel-level">
              {problem ? 'No fuel data on this phone yet.' : 'Loading fuel level…'}
            </p>
            <div className="fuel-bar" aria-hidden="true" />
            <p>Range: {problem ? 'unknown' : 'loading…'}</p>
            <p className="freshness">{problem ? 'Not updated yet' : 'Updating…'}</p>
          </>
        )}
      </section>

      <section aria-labelledby="score-title" className="card">
        <h2 id="score-title">My driving, last 30 days</h2>
        {score ? (
          <>
            <p className="score" data-testid="score">
              Efficiency score:{' '}
              {score.data.score === null
                ? 'not enough driving yet'
                : `${number(score.data.score)} out of 100`}
            </p>
            <p>
              {number(score.data.km)} km driven, {number(score.data.harshEvents)} harsh events,{' '}
              {number(score.data.speedingEvents)} speeding events, {number(score.data.idleMinutes)} idle
              minutes.
            </p>
            <h3>Badges</h3>
            {score.data.badges.length > 0 ? (
              <ul className="badges">
                {score.data.badges.map((b) => (
                  <li key={b} className="badge">
                    <span aria-hidden="true">★ </span>
                    <strong>{b.replace(/-/g, ' ')}</strong>: {score.data.badgeInfo[b] ?? ''}
                  </li>
                ))}
              </ul>
            ) : (
              <p>
                No badges yet.{' '}
                {Object.values(score.data.badgeInfo)[0]
                  ? `Try: ${Object.values(score.data.badgeInfo)[0]}.`
                  : ''}
              </p>
            )}
            <FreshnessLine of={score} online={online} />
          </>
        ) : (
          // Placeholder lines in the answer's shape (see the fuel card).
          <>
            <p className="score">Efficiency score: {problem ? 'none on this phone yet' : 'loading…'}</p>
            <p>
              Distance driven, harsh events, speeding events and idle minutes:{' '}
              {problem ? 'unknown' : 'loading…'}
            </p>
            <h3>Badges</h3>
            <p>{problem ? 'None on this phone yet.' : 'Loading badges…'}</p>
            <p className="freshness">{problem ? 'Not updated yet' : 'Updating…'}</p>
          </>
        )}
      </section>

      <section className="card">
        <RefuelForm onSubmit={logRefuel} />
      </section>

      <section aria-labelledby="outbox-title" className="card">
        <h2 id="outbox-title">Refuels on this phone</h2>
        {outbox === null ? (
          <p>Reading this phone’s outbox…</p>
        ) : outbox.length === 0 ? (
          <p data-testid="outbox-empty">Nothing waiting: every refuel you logged has reached the office.</p>
        ) : (
          <ul className="refuel-list" data-testid="outbox">
            {waiting.map((e) => (
              <li key={e.clientId} data-client-id={e.clientId} data-state="waiting">
                <span className="sync-state">
                  <span aria-hidden="true">○ </span>Waiting to sync
                </span>{' '}
                {number(e.litres, 2)} L {e.fuelType}, {dateTime.format(e.ts)}
                {e.station ? `, ${e.station}` : ''}
                {e.attempts > 0 ? ` (tried ${e.attempts} ${e.attempts === 1 ? 'time' : 'times'})` : ''}
              </li>
            ))}
            {rejected.map((e) => (
              <li key={e.clientId} data-client-id={e.clientId} data-state="rejected">
                <span className="sync-state sync-state--rejected">
                  <span aria-hidden="true">✖ </span>Not accepted:
                </span>{' '}
                {e.rejected}. {number(e.litres, 2)} L {e.fuelType}, {dateTime.format(e.ts)}{' '}
                <button type="button" onClick={() => void discard(e.clientId)}>
                  Remove this refuel
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="refuels-title" className="card">
        <h2 id="refuels-title">My recent refuels</h2>
        {refuels && refuels.data.length > 0 ? (
          <ul className="refuel-list" data-testid="recent-refuels">
            {refuels.data.slice(0, 10).map((r) => (
              <li key={r.clientId} data-client-id={r.clientId}>
                <span className="sync-state sync-state--done">
                  <span aria-hidden="true">✔ </span>Synced
                </span>{' '}
                {number(r.litres, 2)} L {r.fuelType}, {dateTime.format(r.ts)}
                {r.station ? `, ${r.station}` : ''}
                {r.amount !== null ? `, ${number(r.amount, 2)} ${r.currency ?? ''}` : ''}
              </li>
            ))}
          </ul>
        ) : (
          <p>{refuels ? 'No refuels logged yet.' : 'Loading refuels…'}</p>
        )}
        <FreshnessLine of={refuels} online={online} />
      </section>

      {me ? (
        <p className="sign-out">
          Signed in as {me.data.name}.{' '}
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
          {waiting.length > 0 ? (
            <span className="hint">
              {' '}
              {waiting.length} refuel{waiting.length === 1 ? '' : 's'} not yet sent stay on this phone until
              you sign in again.
            </span>
          ) : null}
        </p>
      ) : null}
    </div>
  );
}
