import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { FACETS, SEARCH_KINDS, searchFacets, searchHits } from '../../db/queries/search.ts';
import { CursorInput, decodeCursor, EpochMs, page, rangeCheck } from '../cursor.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const use = authedProcedure.meta({ permission: 'search:use' });
export const SEARCH_MAX_DAYS = 400;
export const MAX_SAVED_SEARCHES = 50;

const values = (max: number) => z.array(z.string().trim().min(1).max(max)).min(1).max(20);

/** What a search is (and what a saved search stores). */
const SearchQuery = z.object({
  q: z.string().trim().min(1).max(200).optional(),
  kinds: z.array(z.enum(SEARCH_KINDS)).min(1).max(SEARCH_KINDS.length).optional(),
  vehicleIds: values(64).optional(),
  driverIds: values(64).optional(),
  fuelTypes: values(32).optional(),
  statuses: values(32).optional(),
  from: EpochMs.optional(),
  to: EpochMs.optional(),
});
type SearchQuery = z.infer<typeof SearchQuery>;

const Hit = z.object({
  kind: z.enum(SEARCH_KINDS),
  id: z.string(),
  title: z.string(),
  subtitle: z.string().nullable(),
  ts: z.number(),
  vehicleId: z.string().nullable(),
  driverId: z.string().nullable(),
  status: z.string().nullable(),
  fuelType: z.string().nullable(),
});
const FacetValues = z.array(z.object({ value: z.string(), label: z.string(), count: z.number() }));

const SavedSearch = z.object({ id: z.number(), name: z.string(), query: SearchQuery, createdAt: z.number() });

export const searchRouter = createRouter({
  /** Hits newest first, paginated, with the total and the counts per facet value. */
  query: use
    .input(
      SearchQuery.extend({ limit: z.number().int().min(1).max(100).default(25), cursor: CursorInput })
        .superRefine(rangeCheck(SEARCH_MAX_DAYS))
        .default({ limit: 25 }),
    )
    .output(
      z.object({
        hits: z.array(Hit),
        nextCursor: z.string().nullable(),
        total: z.number(),
        facets: z.record(z.enum(FACETS), FacetValues),
      }),
    )
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const filter = {
          tenantId: ctx.session.tenantId,
          q: input.q ?? null,
          kinds: input.kinds ?? null,
          vehicleIds: input.vehicleIds ?? null,
          driverIds: input.driverIds ?? null,
          fuelTypes: input.fuelTypes ?? null,
          statuses: input.statuses ?? null,
          from: input.from ?? null,
          to: input.to ?? null,
        };
        const after = decodeCursor(
          input.cursor,
          z.object({ ts: z.number(), kind: z.string(), id: z.string() }),
        );
        const rows = await searchHits(db, filter, input.limit + 1, after);
        const { items, nextCursor } = page(rows, input.limit, (h) => ({ ts: h.ts, kind: h.kind, id: h.id }));
        return { hits: items, nextCursor, ...(await searchFacets(db, filter)) };
      }),
    ),

  /** Keeps a search under a name, for this user only. */
  save: use
    .input(
      z.object({
        name: z.string().trim().min(1).max(100),
        query: SearchQuery.superRefine(rangeCheck(SEARCH_MAX_DAYS)),
      }),
    )
    .output(SavedSearch)
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const { rows: n } = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM saved_searches WHERE tenant_id = $1 AND user_id = $2',
          [ctx.session.tenantId, ctx.session.userId],
        );
        if (n[0]!.n >= MAX_SAVED_SEARCHES)
          throw new TRPCError({
            code: 'BAD_REQUEST',
            message: `at most ${MAX_SAVED_SEARCHES} saved searches`,
          });
        const { rows } = await db.query<{ id: number; created_at: Date }>(
          `INSERT INTO saved_searches (tenant_id, user_id, name, query) VALUES ($1, $2, $3, $4)
           ON CONFLICT (tenant_id, user_id, name) DO NOTHING RETURNING id, created_at`,
          [ctx.session.tenantId, ctx.session.userId, input.name, JSON.stringify(input.query)],
        );
        if (!rows[0])
          throw new TRPCError({ code: 'CONFLICT', message: `a saved search named "${input.name}" exists` });
        return {
          id: rows[0].id,
          name: input.name,
          query: input.query,
          createdAt: rows[0].created_at.getTime(),
        };
      }),
    ),

  /** This user's saved searches, by name. */
  saved: use.output(z.array(SavedSearch)).query(({ ctx }) =>
    ctx.tenant(async (db) => {
      const { rows } = await db.query<{ id: number; name: string; query: SearchQuery; created_at: Date }>(
        `SELECT id, name, query, created_at FROM saved_searches
          WHERE tenant_id = $1 AND user_id = $2 ORDER BY name LIMIT ${MAX_SAVED_SEARCHES}`,
        [ctx.session.tenantId, ctx.session.userId],
      );
      return rows.map((r) => ({ id: r.id, name: r.name, query: r.query, createdAt: r.created_at.getTime() }));
    }),
  ),

  deleteSaved: use
    .input(z.object({ savedSearchId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }))
    .output(z.object({ deleted: z.boolean() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const { rowCount } = await db.query(
          'DELETE FROM saved_searches WHERE id = $1 AND tenant_id = $2 AND user_id = $3',
          [input.savedSearchId, ctx.session.tenantId, ctx.session.userId],
        );
        if (!rowCount)
          throw new TRPCError({ code: 'NOT_FOUND', message: `no saved search ${input.savedSearchId}` });
        return { deleted: true };
      }),
    ),
});
