import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { previewRule, type RulePreview } from '../../alerts/rules/preview.ts';
import { AlertRuleInput, BUILTIN_RULE_SOURCES } from '../../alerts/rules/rule.ts';
import { deleteRule, getRule, insertRule, listRules, updateRule } from '../../db/queries/alert-rules.ts';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

/** Writing rules decides who is woken at night: managers and admins only (not technicians, not drivers). */
const manage = authedProcedure.meta({ permission: 'alerts:rules' });
const read = authedProcedure.meta({ permission: 'alerts:read' });

const RuleId = z.object({ id: z.number().int().positive() });
const WEEK_MS = 7 * 86_400_000;

const notFound = () => new TRPCError({ code: 'NOT_FOUND', message: 'no such rule' });

export const alertRulesRouter = createRouter({
  /** The sources a rule can be written for (built in, and registered by other modules). */
  sources: read.query(() => [...BUILTIN_RULE_SOURCES]),

  list: read.query(({ ctx }) => ctx.tenant((db) => listRules(db))),

  get: read.input(RuleId).query(({ ctx, input }) =>
    ctx.tenant(async (db) => {
      const rule = await getRule(db, input.id);
      if (!rule) throw notFound();
      return rule;
    }),
  ),

  /** Field errors come back as zod issues with their path (condition.thresholdKmh, recipients.emails.0). */
  create: manage.input(AlertRuleInput).mutation(({ ctx, input }) =>
    ctx.tenant(async (db) => {
      const id = await insertRule(db, ctx.session.tenantId, input, ctx.session.userId);
      await appendAudit(db, {
        tenantId: ctx.session.tenantId,
        actor: `user:${ctx.session.userId}`,
        action: 'alert_rule.create',
        entity: `alert_rule:${id}`,
        after: input,
      });
      return { id };
    }),
  ),

  update: manage
    .input(z.object({ id: z.number().int().positive(), rule: AlertRuleInput }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const before = await getRule(db, input.id);
        if (!before || !(await updateRule(db, input.id, input.rule))) throw notFound();
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'alert_rule.update',
          entity: `alert_rule:${input.id}`,
          before,
          after: input.rule,
        });
        return { id: input.id };
      }),
    ),

  delete: manage.input(RuleId).mutation(({ ctx, input }) =>
    ctx.tenant(async (db) => {
      const before = await getRule(db, input.id);
      if (!before || !(await deleteRule(db, input.id))) throw notFound();
      await appendAudit(db, {
        tenantId: ctx.session.tenantId,
        actor: `user:${ctx.session.userId}`,
        action: 'alert_rule.delete',
        entity: `alert_rule:${input.id}`,
        before,
      });
      return { id: input.id };
    }),
  ),

  /**
   * While editing: how often the rule (as edited, not yet saved) would have fired over stored
   * history, by default the last 7 days. The same engine the ingest runs (alerts/rules/preview.ts).
   */
  preview: manage
    .input(
      z.object({
        rule: AlertRuleInput,
        from: z.number().int().optional(),
        to: z.number().int().optional(),
      }),
    )
    .query(({ ctx, input }): Promise<RulePreview> => {
      const to = input.to ?? Date.now();
      const from = input.from ?? to - WEEK_MS;
      if (to <= from || to - from > 31 * 86_400_000)
        throw new TRPCError({
          code: 'BAD_REQUEST',
          message: 'the window must be positive and at most 31 days',
        });
      return ctx.tenant((db) =>
        previewRule(db, { ...input.rule, id: 0, tenantId: ctx.session.tenantId }, from, to),
      );
    }),
});
