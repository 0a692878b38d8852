import type { Alert } from '../../db/queries/alerts.ts';
import { type FleetVehicle, fleetOverview } from '../../db/queries/fleet-overview.ts';
import { LiveFeed, type LivePosition, listen } from '../live-feed.ts';
import { authedProcedure, createRouter } from '../trpc.ts';
import { ownVehicleScope } from '../vehicle-access.ts';

/** The snapshot a positions stream starts with covers at most this many vehicles. */
const SNAPSHOT_LIMIT = 10_000;

/**
 * Real-time updates as tRPC subscriptions over SSE (httpSubscriptionLink on the client, the same
 * /trpc endpoint). Both come from the process's one shared poller (live-feed.ts).
 */
export const liveRouter = createRouter({
  /**
   * Vehicle positions and states: first the whole visible fleet (`snapshot: true`), then each
   * vehicle whose latest state changed, in batches. A driver gets their own vehicle only.
   */
  positions: authedProcedure.meta({ permission: 'vehicles:read' }).subscription(async function* ({
    ctx,
    signal,
  }) {
    const own = ownVehicleScope(ctx.session);
    const updates = listen<LivePosition>(signal, (push) =>
      LiveFeed.for(ctx.db).subscribe(ctx.session.tenantId, 'positions', (rows) => {
        const mine = own === null ? rows : rows.filter((r) => r.vehicleId === own);
        if (mine.length > 0) push(mine);
      }),
    );
    // Listening before the snapshot is read: a change in between arrives (again) as an update.
    const first = updates.next();
    const { rows } = await ctx.tenant((db) =>
      fleetOverview(db, { tenantId: ctx.session.tenantId, vehicleId: own }, SNAPSHOT_LIMIT, null),
    );
    try {
      yield { snapshot: true, vehicles: rows as FleetVehicle[] };
      let next = await first;
      while (!next.done) {
        yield { snapshot: false, vehicles: next.value as FleetVehicle[] };
        next = await updates.next();
      }
    } finally {
      void updates.return(undefined);
    }
  }),

  /** Alerts as they are created (the inbox's live feed). */
  alerts: authedProcedure.meta({ permission: 'alerts:read' }).subscription(async function* ({ ctx, signal }) {
    for await (const batch of listen<Alert>(signal, (push) =>
      LiveFeed.for(ctx.db).subscribe(ctx.session.tenantId, 'alerts', push),
    ))
      yield { alerts: batch };
  }),
});
