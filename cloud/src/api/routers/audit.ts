import { z } from 'zod';
import { authedProcedure, createRouter } from '../trpc.ts';

const Entry = z.object({
  id: z.number(),
  at: z.number(),
  actor: z.string(),
  action: z.string(),
  entity: z.string().nullable(),
});

export const auditRouter = createRouter({
  /** The tenant's audit trail, newest first, cursor-paginated by id. */
  list: authedProcedure
    .meta({ permission: 'audit:read' })
    .input(
      z
        .object({
          limit: z.number().int().min(1).max(200).default(50),
          cursor: z.number().int().positive().optional(),
        })
        .default({ limit: 50 }),
    )
    .output(z.object({ entries: z.array(Entry), nextCursor: z.number().nullable() }))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const { rows } = await db.query<{
          id: number;
          at: Date;
          actor: string;
          action: string;
          entity: string | null;
        }>(
          `SELECT id, at, actor, action, entity FROM audit_log
            WHERE tenant_id = $1 AND ($2::bigint IS NULL OR id < $2)
            ORDER BY id DESC LIMIT $3`,
          [ctx.session.tenantId, input.cursor ?? null, input.limit + 1],
        );
        const page = rows.slice(0, input.limit);
        return {
          entries: page.map((r) => ({ ...r, at: r.at.getTime() })),
          nextCursor: rows.length > input.limit ? page[page.length - 1]!.id : null,
        };
      }),
    ),
});
