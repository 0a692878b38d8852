import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { boundingBox } from '../../alerts/geofence.ts';
import { recordVehiclesInside } from '../../alerts/geofence-watch.ts';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { CursorInput, decodeCursor, page } from '../cursor.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const IdCursor = z.number().int();

const manage = authedProcedure.meta({ permission: 'geofences:manage' });
export const MAX_GEOFENCE_VERTICES = 200;

const Vertex = z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) });
const Polygon = z
  .array(Vertex)
  .min(3)
  .max(MAX_GEOFENCE_VERTICES)
  .superRefine((pts, ctx) => {
    const lons = pts.map((p) => p.lon);
    // Ray casting on plain lat/lon: a polygon wider than half the globe is taken to cross the
    // antimeridian, which alerts/geofence.ts does not handle.
    if (Math.max(...lons) - Math.min(...lons) > 180)
      ctx.addIssue({ code: 'custom', message: 'a geofence may not span more than 180 degrees of longitude' });
    let area2 = 0;
    for (let i = 0, j = pts.length - 1; i < pts.length; j = i++)
      area2 += (pts[j]!.lon - pts[i]!.lon) * (pts[j]!.lat + pts[i]!.lat);
    if (Math.abs(area2) < 1e-12) ctx.addIssue({ code: 'custom', message: 'the polygon has no area' });
  });

const Geofence = z.object({
  id: z.number(),
  name: z.string(),
  polygon: z.array(Vertex),
  alertOnEnter: z.boolean(),
  alertOnExit: z.boolean(),
  createdAt: z.number(),
  /** Vehicles inside it now. */
  vehiclesInside: z.number(),
});

interface Row {
  id: number;
  name: string;
  lats: number[];
  lons: number[];
  alert_on_enter: boolean;
  alert_on_exit: boolean;
  created_at: Date;
  inside: number;
}
const toGeofence = (r: Row) => ({
  id: r.id,
  name: r.name,
  polygon: r.lats.map((lat, i) => ({ lat, lon: r.lons[i]! })),
  alertOnEnter: r.alert_on_enter,
  alertOnExit: r.alert_on_exit,
  createdAt: r.created_at.getTime(),
  vehiclesInside: r.inside,
});
const SELECT = `SELECT g.id, g.name, g.lats, g.lons, g.alert_on_enter, g.alert_on_exit, g.created_at,
       (SELECT count(*)::int FROM geofence_presence p WHERE p.geofence_id = g.id) AS inside
  FROM geofences g`;

export const geofencesRouter = createRouter({
  /**
   * A polygon that raises an alert when a vehicle's position enters or leaves it
   * (alerts/geofence-watch.ts, in the ingest). Vehicles already inside are recorded as inside: standing in the
   * depot while it is drawn is not an entry. Audited.
   */
  create: manage
    .input(
      z.object({
        name: z.string().trim().min(1).max(100),
        polygon: Polygon,
        alertOnEnter: z.boolean().default(true),
        alertOnExit: z.boolean().default(true),
      }),
    )
    .output(Geofence)
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const lats = input.polygon.map((p) => p.lat);
        const lons = input.polygon.map((p) => p.lon);
        const fence = {
          tenantId: ctx.session.tenantId,
          name: input.name,
          lats,
          lons,
          ...boundingBox(lats, lons),
          alertOnEnter: input.alertOnEnter,
          alertOnExit: input.alertOnExit,
        };
        const { rows } = await db.query<{ id: number }>(
          `INSERT INTO geofences (tenant_id, name, lats, lons, min_lat, max_lat, min_lon, max_lon,
                                  alert_on_enter, alert_on_exit, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
          [
            fence.tenantId,
            fence.name,
            lats,
            lons,
            fence.minLat,
            fence.maxLat,
            fence.minLon,
            fence.maxLon,
            fence.alertOnEnter,
            fence.alertOnExit,
            ctx.session.userId,
          ],
        );
        const id = rows[0]!.id;
        await recordVehiclesInside(db, { id, ...fence });
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'geofence.create',
          entity: `geofence:${id}`,
          after: { name: input.name, vertices: input.polygon.length },
        });
        const { rows: created } = await db.query<Row>(`${SELECT} WHERE g.id = $1`, [id]);
        return toGeofence(created[0]!);
      }),
    ),

  list: manage
    .input(
      z
        .object({ limit: z.number().int().min(1).max(200).default(100), cursor: CursorInput })
        .default({ limit: 100 }),
    )
    .output(z.object({ items: z.array(Geofence), nextCursor: z.string().nullable() }))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const after = decodeCursor(input.cursor, IdCursor);
        const { rows } = await db.query<Row>(
          `${SELECT} WHERE g.tenant_id = $1 AND ($2::bigint IS NULL OR g.id > $2) ORDER BY g.id LIMIT $3`,
          [ctx.session.tenantId, after, input.limit + 1],
        );
        return page(rows.map(toGeofence), input.limit, (g) => g.id);
      }),
    ),

  /** Removes it (its past alerts stay). Audited. */
  delete: manage
    .input(z.object({ geofenceId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }))
    .output(z.object({ deleted: z.boolean() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const { rows } = await db.query<{ name: string }>(
          'DELETE FROM geofences WHERE id = $1 AND tenant_id = $2 RETURNING name',
          [input.geofenceId, ctx.session.tenantId],
        );
        if (!rows[0]) throw new TRPCError({ code: 'NOT_FOUND', message: `no geofence ${input.geofenceId}` });
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'geofence.delete',
          entity: `geofence:${input.geofenceId}`,
          before: { name: rows[0].name },
        });
        return { deleted: true };
      }),
    ),
});
