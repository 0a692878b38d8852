import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { failureDelayMs, login, logout, resetPassword } from '../../auth/auth-service.ts';
import { acceptInvite } from '../../auth/invites.ts';
import { can, PERMISSION_NAMES } from '../../auth/permissions.ts';
import { authedProcedure, createRouter, publicProcedure } from '../trpc.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const Me = z.object({
  userId: z.string(),
  tenantId: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.string(),
  vehicleId: z.string().nullable(),
});
/** What this session may do (auth/permissions.ts): the dashboard shows only the sections it can use. */
const MeWithPermissions = Me.extend({ permissions: z.array(z.string()) });

/** The driver app's units and language (issue 19 §4); locale null = the browser's language. */
const Preferences = z.object({
  volumeUnit: z.enum(['l', 'gal']),
  distanceUnit: z.enum(['km', 'mi']),
  locale: z.enum(['en', 'es']).nullable(),
});
type Preferences = z.infer<typeof Preferences>;
const DEFAULT_PREFERENCES: Preferences = { volumeUnit: 'l', distanceUnit: 'km', locale: null };

export const authRouter = createRouter({
  /** Sets the session cookie (session-cookie.ts); a wrong password is answered slowly, then the account locks. */
  login: publicProcedure
    .input(z.object({ email: z.email().max(254), password: z.string().min(1).max(1024) }))
    .output(Me)
    .mutation(async ({ ctx, input }) => {
      const r = await login(ctx.db, input.email, input.password);
      if (!r.ok) {
        await sleep(r.delayMs);
        throw new TRPCError({
          code: r.reason === 'locked' ? 'TOO_MANY_REQUESTS' : 'UNAUTHORIZED',
          message:
            r.reason === 'locked'
              ? `too many failed sign-ins: locked until ${new Date(r.lockedUntil!).toISOString()}`
              : 'wrong email or password',
        });
      }
      ctx.setSessionCookie?.(r.token, (r.expiresAt - Date.now()) / 1000);
      return r.session;
    }),

  logout: authedProcedure.meta({ permission: 'vehicles:read' }).mutation(async ({ ctx }) => {
    if (ctx.token) await logout(ctx.db, ctx.token);
    ctx.setSessionCookie?.(null, 0);
    return { ok: true };
  }),

  /** Sets a new password with the single-use token an admin issued; ends every session of that user. */
  resetPassword: publicProcedure
    .input(z.object({ resetToken: z.string().min(20).max(100), newPassword: z.string().min(12).max(1024) }))
    .output(z.object({ ok: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      if (!(await resetPassword(ctx.db, input.resetToken, input.newPassword))) {
        await sleep(failureDelayMs(1));
        throw new TRPCError({ code: 'UNAUTHORIZED', message: 'reset token unknown, used or expired' });
      }
      return { ok: true };
    }),

  /**
   * Accepts an invitation: sets the password, creates the account and signs in (cookie). The
   * link works once; an unknown, used, withdrawn or expired one gets the same answer.
   */
  acceptInvite: publicProcedure
    .input(z.object({ inviteToken: z.string().min(20).max(100), password: z.string().min(12).max(1024) }))
    .output(Me)
    .mutation(async ({ ctx, input }) => {
      const r = await acceptInvite(ctx.db, input.inviteToken, input.password);
      if (!r.ok) {
        await sleep(failureDelayMs(1));
        throw new TRPCError(
          r.reason === 'email-taken'
            ? { code: 'CONFLICT', message: 'an account with this e-mail exists already: sign in instead' }
            : { code: 'UNAUTHORIZED', message: 'invitation unknown, used, withdrawn or expired' },
        );
      }
      ctx.setSessionCookie?.(r.token, (r.expiresAt - Date.now()) / 1000);
      return r.session;
    }),

  /** How one can sign in here (the sign-in page asks before showing its choices). */
  methods: publicProcedure
    .output(z.object({ password: z.boolean(), oidc: z.boolean() }))
    .query(({ ctx }) => ({ password: true, oidc: ctx.oidc ?? false })),

  me: authedProcedure
    .meta({ permission: 'vehicles:read' })
    .output(MeWithPermissions)
    .query(({ ctx }) => ({
      ...ctx.session,
      permissions: PERMISSION_NAMES.filter((p) => can(ctx.session.role, p, ctx.session.scopes)),
    })),

  /** The signed-in user's units and language (defaults when never saved). */
  preferences: authedProcedure
    .meta({ permission: 'vehicles:read' })
    .output(Preferences)
    .query(({ ctx }) =>
      ctx.tenant(async (db) => {
        const { rows } = await db.query<{
          volume_unit: 'l' | 'gal';
          distance_unit: 'km' | 'mi';
          locale: 'en' | 'es' | null;
        }>('SELECT volume_unit, distance_unit, locale FROM user_preferences WHERE user_id = $1', [
          ctx.session.userId,
        ]);
        const r = rows[0];
        return r
          ? { volumeUnit: r.volume_unit, distanceUnit: r.distance_unit, locale: r.locale }
          : DEFAULT_PREFERENCES;
      }),
    ),

  /** Changes the given preferences of the signed-in user only; the others keep their value. */
  setPreferences: authedProcedure
    .meta({ permission: 'vehicles:read' })
    .input(Preferences.partial())
    .output(Preferences)
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const { rows } = await db.query<{
          volume_unit: 'l' | 'gal';
          distance_unit: 'km' | 'mi';
          locale: 'en' | 'es' | null;
        }>(
          `INSERT INTO user_preferences (tenant_id, user_id, volume_unit, distance_unit, locale)
           VALUES ($1, $2, COALESCE($3, 'l'), COALESCE($4, 'km'), $5)
           ON CONFLICT (tenant_id, user_id) DO UPDATE SET
             volume_unit = COALESCE($3, user_preferences.volume_unit),
             distance_unit = COALESCE($4, user_preferences.distance_unit),
             locale = CASE WHEN $6 THEN $5 ELSE user_preferences.locale END,
             updated_at = now()
           RETURNING volume_unit, distance_unit, locale`,
          [
            ctx.session.tenantId,
            ctx.session.userId,
            input.volumeUnit ?? null,
            input.distanceUnit ?? null,
            input.locale ?? null,
            input.locale !== undefined,
          ],
        );
        const r = rows[0]!;
        return { volumeUnit: r.volume_unit, distanceUnit: r.distance_unit, locale: r.locale };
      }),
    ),
});
