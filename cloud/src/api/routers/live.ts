import {
  type AlertsMessage,
  follow,
  LiveFeed,
  mergeAlerts,
  mergePositions,
  type PositionsMessage,
} from '../live-feed.ts';
import { authedProcedure, createRouter } from '../trpc.ts';
import { ownVehicleScope } from '../vehicle-access.ts';

/**
 * Real-time updates as tRPC subscriptions over SSE (httpSubscriptionLink on the client, the same
 * /trpc endpoint). Both come from the process's one shared poller (live-feed.ts), which builds
 * each message once per scope: the streams yield those shared messages as they are (server.ts
 * encodes a shared message once for all its streams).
 */
export const liveRouter = createRouter({
  /**
   * Vehicle positions and states: first the whole visible fleet (`snapshot: true`), then each
   * vehicle whose latest state changed, in batches. A driver gets their own vehicle only.
   */
  positions: authedProcedure.meta({ permission: 'vehicles:read' }).subscription(async function* ({
    ctx,
    signal,
  }): AsyncGenerator<PositionsMessage> {
    const own = ownVehicleScope(ctx.session);
    yield* follow<PositionsMessage>(
      signal,
      (push) => LiveFeed.for(ctx.db).subscribePositions(ctx.session.tenantId, own, push),
      mergePositions,
    );
  }),

  /** Alerts as they are created (the inbox's live feed). */
  alerts: authedProcedure.meta({ permission: 'alerts:read' }).subscription(async function* ({
    ctx,
    signal,
  }): AsyncGenerator<AlertsMessage> {
    yield* follow<AlertsMessage>(
      signal,
      (push) => LiveFeed.for(ctx.db).subscribeAlerts(ctx.session.tenantId, push),
      mergeAlerts,
    );
  }),
});
