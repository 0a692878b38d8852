/**
 * The driver's home page in one read (issue 19, Lighthouse mobile): everything its first paint
 * shows, which the page used to ask for in about fifteen requests, each answer rendered in a task
 * of its own on the phone (long tasks, a late largest paint).
 *
 * No query of its own: every part is the procedure the page read before (auth.me, vehicles.get,
 * drivers.score, refuels.mine, scores.*, points.balance, challenges.*, rewards.list, ...), called
 * here as the signed-in driver through a server-side caller, so each keeps its own permission
 * check, input validation and row-level security (ctx.tenant) exactly as when called over HTTP.
 *
 * No input, so the URL is the same on every call: the driver worker (web/sw/sw.ts) keeps its last
 * answer for offline use like the other driver reads, and the page's HTML preloads it.
 *
 * A part that fails (the vehicle not registered yet, a challenge deleted meanwhile) is null in the
 * answer and the other parts still come, as each card used to read on its own; a session that
 * ended meanwhile fails the whole read (UNAUTHORIZED), so the page goes to the sign-in page.
 */
import { createLogger } from '@fleet/shared/log';
import { TRPCError } from '@trpc/server';
import { authedProcedure, createCallerFactory, createRouter } from '../trpc.ts';
import { assignmentsRouter } from './assignments.ts';
import { authRouter } from './auth.ts';
import { challengesRouter } from './challenges.ts';
import { driversRouter } from './drivers.ts';
import { notificationsRouter } from './notifications.ts';
import { pointsRouter, rewardsRouter } from './points.ts';
import { refuelsRouter } from './refuels.ts';
import { scoresRouter } from './scores.ts';
import { telemetryRouter } from './telemetry.ts';
import { vehiclesRouter } from './vehicles.ts';

const log = createLogger('api.driver-home');

/** The range estimate's history (the page's HISTORY_MS, drivers.score's default period). */
const HISTORY_MS = 30 * 86_400_000;
const HOUR_MS = 3_600_000;
/** As many challenges as the programme card lists. */
const CHALLENGES_SHOWN = 5;

/** The procedures the home page reads, under the same names as in the app's router. */
const homeReads = createRouter({
  auth: authRouter,
  vehicles: vehiclesRouter,
  drivers: driversRouter,
  telemetry: telemetryRouter,
  refuels: refuelsRouter,
  assignments: assignmentsRouter,
  scores: scoresRouter,
  points: pointsRouter,
  challenges: challengesRouter,
  rewards: rewardsRouter,
  notifications: notificationsRouter,
});
const homeCaller = createCallerFactory(homeReads);

/** One part's answer, or null when that procedure refused or failed (UNAUTHORIZED fails all). */
async function part<T>(name: string, read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof TRPCError && error.code === 'UNAUTHORIZED') throw error;
    if (!(error instanceof TRPCError) || error.code === 'INTERNAL_SERVER_ERROR')
      log.error(
        { part: name, err: error instanceof Error ? error.message : String(error) },
        'driver home part failed',
      );
    return null;
  }
}

export const driverHomeRouter = createRouter({
  /** What the driver's home shows at first paint, read as the signed-in driver (theirs only). */
  get: authedProcedure.meta({ permission: 'drivers:home' }).query(async ({ ctx }) => {
    const as = homeCaller(ctx);
    const vehicleId = ctx.session.vehicleId;
    // The page's range window: the last 30 days up to the next full hour (stable within the hour).
    const to = Math.ceil(Date.now() / HOUR_MS) * HOUR_MS;
    const programme = (async () => {
      const challenges = await part('challenges.list', () => as.challenges.list({ limit: CHALLENGES_SHOWN }));
      // Each running (or ended) challenge's progress and rank, as the card lists them.
      const shown = challenges?.items.filter((c) => c.state !== 'upcoming') ?? [];
      const progress = await Promise.all(
        shown.map(async (c) => ({
          challengeId: c.id,
          progress: await part('challenges.progress', () => as.challenges.progress({ challengeId: c.id })),
        })),
      );
      return { challenges, progress };
    })();
    const [
      me,
      preferences,
      vehicle,
      score,
      fuelSeries,
      refuels,
      vehicles,
      rollingScore,
      explain,
      disputes,
      points,
      rewards,
      pushSettings,
      pushKey,
      { challenges, progress },
    ] = await Promise.all([
      as.auth.me(),
      part('auth.preferences', () => as.auth.preferences()),
      vehicleId ? part('vehicles.get', () => as.vehicles.get({ vehicleId })) : null,
      part('drivers.score', () => as.drivers.score({})),
      vehicleId
        ? part('telemetry.fuelSeries', () =>
            as.telemetry.fuelSeries({ vehicleId, from: to - HISTORY_MS, to }),
          )
        : null,
      part('refuels.mine', () => as.refuels.mine({})),
      part('assignments.allowed', () => as.assignments.allowed()),
      part('scores.get', () => as.scores.get({})),
      part('scores.explain', () => as.scores.explain({})),
      part('scores.disputes', () => as.scores.disputes({})),
      part('points.balance', () => as.points.balance({})),
      part('rewards.list', () => as.rewards.list({})),
      part('notifications.driverPushSettings', () => as.notifications.driverPushSettings()),
      part('notifications.pushKey', () => as.notifications.pushKey()),
      programme,
    ]);
    return {
      me,
      preferences,
      vehicle,
      score,
      // The range estimate needs the levels only (the markers are the dashboard's chart's).
      burnHistory: fuelSeries ? fuelSeries.points.map((p) => ({ pct: p.pct })) : null,
      refuels: refuels?.items ?? null,
      vehicles,
      rollingScore,
      explain,
      disputes,
      points,
      challenges,
      progress,
      rewards,
      push: pushSettings && pushKey ? { settings: pushSettings, publicKey: pushKey.publicKey } : null,
    };
  }),
});
