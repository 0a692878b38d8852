import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { listDriverRoster } from '../../db/queries/list-driver-roster.ts';
import { setDriverGroups } from '../../db/queries/set-driver-groups.ts';
import { CloudErrorCode, isCloudError } from '../../errors.ts';
import { importDriversCsv } from '../../register/driver-csv.ts';
import { CursorInput, decodeCursor, page } from '../cursor.ts';
import { authedProcedure, createRouter } from '../trpc.ts';
import { ImportReportOutput, MAX_IMPORT_BYTES } from './registry.ts';

const manage = authedProcedure.meta({ permission: 'drivers:manage' });
const RosterCursor = z.object({ name: z.string(), id: z.string() });

const RosterDriver = z.object({
  userId: z.string(),
  email: z.string(),
  name: z.string(),
  vehicleId: z.string().nullable(),
  plate: z.string().nullable(),
  since: z.number().nullable(),
  groups: z.array(z.object({ id: z.number(), name: z.string() })),
});

/**
 * The tenant's drivers as an administrator manages them: their current vehicle, their groups
 * (which vehicles they may check in to), and the CSV import. (Scores and rankings: `drivers`.)
 */
export const rosterRouter = createRouter({
  list: manage
    .input(
      z
        .object({ limit: z.number().int().min(1).max(500).default(100), cursor: CursorInput })
        .default({ limit: 100 }),
    )
    .output(z.object({ items: z.array(RosterDriver), nextCursor: z.string().nullable() }))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const rows = await listDriverRoster(db, {
          tenantId: ctx.session.tenantId,
          limit: input.limit + 1,
          after: decodeCursor(input.cursor, RosterCursor),
        });
        return page(rows, input.limit, (r) => ({ name: r.name, id: r.userId }));
      }),
    ),

  /** Makes the driver's groups exactly these (an id that is not the tenant's group is NOT_FOUND). */
  setGroups: manage
    .input(
      z.object({
        userId: z.string().min(1).max(64),
        groupIds: z.array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)).max(50),
      }),
    )
    .output(z.object({ groupIds: z.array(z.number()) }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const tenantId = ctx.session.tenantId;
        const [before] = await listDriverRoster(db, {
          tenantId,
          limit: 1,
          after: null,
          userId: input.userId,
        });
        if (!before) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such driver' });
        const kept = await setDriverGroups(db, tenantId, input.userId, input.groupIds);
        const wanted = [...new Set(input.groupIds)];
        if (kept.length !== wanted.length)
          throw new TRPCError({ code: 'NOT_FOUND', message: 'no such group' });
        await appendAudit(db, {
          tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'driver.groups',
          entity: `user:${input.userId}`,
          before: before.groups.map((g) => g.id),
          after: kept,
        });
        return { groupIds: kept };
      }),
    ),

  /** A CSV file's text (driver-csv.ts columns); idempotent on e-mail; bad rows by line. */
  import: manage
    .input(z.object({ csv: z.string().min(1).max(MAX_IMPORT_BYTES) }))
    .output(ImportReportOutput)
    .mutation(async ({ ctx, input }) => {
      try {
        const { createdIds: _ids, ...report } = await importDriversCsv(
          ctx.db,
          ctx.session.tenantId,
          `user:${ctx.session.userId}`,
          [input.csv],
        );
        return report;
      } catch (err) {
        // A file the import cannot read at all (no header, a required column missing).
        if (isCloudError(err, CloudErrorCode.PayloadRejected))
          throw new TRPCError({ code: 'BAD_REQUEST', message: err.message });
        throw err;
      }
    }),
});
