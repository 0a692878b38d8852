import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { deleteVehicleGroup } from '../../db/queries/delete-vehicle-group.ts';
import { GROUP_KINDS, listVehicleGroups } from '../../db/queries/list-vehicle-groups.ts';
import { upsertVehicleGroup } from '../../db/queries/upsert-vehicle-group.ts';
import { conflictAs } from '../db-conflict.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const manage = authedProcedure.meta({ permission: 'groups:manage' });
const GroupId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const Name = z.string().trim().min(1).max(100);

const Group = z.object({
  id: z.number(),
  name: z.string(),
  kind: z.enum(GROUP_KINDS),
  vehicles: z.number(),
  drivers: z.number(),
});

/**
 * Groups of vehicles (depots, vehicle classes): a vehicle belongs to one, a driver may check in to
 * the vehicles of theirs; rules, reports and score peer groups are scoped by them. Changes audited.
 */
export const groupsRouter = createRouter({
  list: authedProcedure
    .meta({ permission: 'vehicles:registry' })
    .output(z.array(Group))
    .query(({ ctx }) => ctx.tenant((db) => listVehicleGroups(db, ctx.session.tenantId))),

  create: manage
    .input(z.object({ name: Name, kind: z.enum(GROUP_KINDS).default('depot') }))
    .output(z.object({ id: z.number() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const id = await conflictAs(
          () => `a group named "${input.name}" exists already`,
          () => upsertVehicleGroup(db, ctx.session.tenantId, input),
        );
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'group.create',
          entity: `group:${id}`,
          after: input,
        });
        return { id: id! };
      }),
    ),

  update: manage
    .input(z.object({ groupId: GroupId, name: Name.optional(), kind: z.enum(GROUP_KINDS).optional() }))
    .output(z.object({ id: z.number() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const before = (await listVehicleGroups(db, ctx.session.tenantId)).find(
          (g) => g.id === input.groupId,
        );
        if (!before) throw new TRPCError({ code: 'NOT_FOUND', message: `no group ${input.groupId}` });
        await conflictAs(
          () => `a group named "${input.name}" exists already`,
          () =>
            upsertVehicleGroup(db, ctx.session.tenantId, {
              id: input.groupId,
              ...(input.name !== undefined && { name: input.name }),
              ...(input.kind !== undefined && { kind: input.kind }),
            }),
        );
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'group.update',
          entity: `group:${input.groupId}`,
          before: { name: before.name, kind: before.kind },
          after: { name: input.name ?? before.name, kind: input.kind ?? before.kind },
        });
        return { id: input.groupId };
      }),
    ),

  /** Its vehicles stay, without a group; its drivers may no longer check in to them. */
  delete: manage
    .input(z.object({ groupId: GroupId }))
    .output(z.object({ deleted: z.boolean() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const name = await deleteVehicleGroup(db, ctx.session.tenantId, input.groupId);
        if (name === null) throw new TRPCError({ code: 'NOT_FOUND', message: `no group ${input.groupId}` });
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'group.delete',
          entity: `group:${input.groupId}`,
          before: { name },
        });
        return { deleted: true };
      }),
    ),
});
