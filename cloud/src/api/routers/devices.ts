import { ID_PATTERN } from '@fleet/shared';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { listVehicleHealth } from '../../db/queries/agent-health.ts';
import {
  agentEnvironment,
  type DeviceCredentials,
  DeviceProvisioning,
} from '../../devices/device-provisioning.ts';
import { CloudErrorCode, isCloudError } from '../../errors.ts';
import { VIN_STATUSES } from '../../register/vin-check.ts';
import { type ApiContext, authedProcedure, createRouter } from '../trpc.ts';

const read = authedProcedure.meta({ permission: 'devices:read' });
const manage = authedProcedure.meta({ permission: 'devices:manage' });
const VehicleInput = z.object({ vehicleId: z.string().regex(ID_PATTERN).max(64) });

/** Without a configured broker (tests' callers): every change answers PRECONDITION_FAILED. */
const unconfigured = new DeviceProvisioning({ logins: null, mqttUrl: '', baseTopic: '' });
const devicesOf = (ctx: ApiContext) => ctx.admin?.devices ?? unconfigured;

/** The device service's refusals as API answers (another tenant's vehicle: NOT_FOUND, like none). */
function asApiError(err: unknown): never {
  if (isCloudError(err)) {
    const code = (
      {
        [CloudErrorCode.DeviceUnknownVehicle]: 'NOT_FOUND',
        [CloudErrorCode.DeviceExists]: 'CONFLICT',
        [CloudErrorCode.DeviceNotActive]: 'CONFLICT',
        [CloudErrorCode.DeviceNameReserved]: 'BAD_REQUEST',
        [CloudErrorCode.BrokerLoginsUnconfigured]: 'PRECONDITION_FAILED',
      } as const
    )[err.code as number];
    if (code) throw new TRPCError({ code, message: err.message, cause: err });
  }
  throw err;
}

const Credentials = z.object({
  vehicleId: z.string(),
  tenantId: z.string(),
  username: z.string(),
  password: z.string(),
  mqttUrl: z.string(),
  baseTopic: z.string(),
  /** The same as KEY=value lines for the agent's environment (or `fleet-agent provision` on stdin). */
  environment: z.string(),
});
const shownOnce = (c: DeviceCredentials) => ({ ...c, environment: agentEnvironment(c) });

const Health = z.object({
  vehicleId: z.string(),
  online: z.boolean().nullable(),
  lastSeenAt: z.number().nullable(),
  agentVersion: z.string().nullable(),
  clockSource: z.string().nullable(),
  diskUsedBytes: z.number().nullable(),
  diskBudgetBytes: z.number().nullable(),
  evicted: z
    .object({ rawSynced: z.number(), rawUnsynced: z.number(), rollups: z.number(), events: z.number() })
    .nullable(),
  unsentSamples: z.number().nullable(),
  syncLagMs: z.number().nullable(),
  modelVersion: z.string().nullable(),
  reportedAt: z.number().nullable(),
  /** The VIN the agent read from the vehicle, and how it compares with the registered one. */
  reportedVin: z.string().nullable(),
  registeredVin: z.string().nullable(),
  vinStatus: z.enum(VIN_STATUSES),
});

export const devicesRouter = createRouter({
  /** Every vehicle of the tenant with its device (status 'none' when never provisioned) and health. */
  list: read
    .output(
      z.object({
        /** False: this cloud cannot change the broker's logins (provision/rotate/revoke refused). */
        manageable: z.boolean(),
        devices: z.array(
          z.object({
            vehicleId: z.string(),
            status: z.enum(['none', 'active', 'revoked']),
            mqttUsername: z.string().nullable(),
            provisionedAt: z.number().nullable(),
            provisionedBy: z.string().nullable(),
            rotatedAt: z.number().nullable(),
            revokedAt: z.number().nullable(),
            health: Health,
          }),
        ),
      }),
    )
    .query(({ ctx }) =>
      ctx.tenant(async (db) => {
        const devices = await devicesOf(ctx).list(db, ctx.session.tenantId);
        const health = new Map(
          (await listVehicleHealth(db, ctx.session.tenantId)).map((h) => [h.vehicleId, h]),
        );
        return {
          manageable: devicesOf(ctx).configured,
          devices: devices.map((d) => ({ ...d, health: health.get(d.vehicleId)! })),
        };
      }),
    ),

  /** The agent-health panel: one vehicle, or the whole fleet without `vehicleId`. */
  health: read
    .input(z.object({ vehicleId: z.string().regex(ID_PATTERN).max(64).optional() }))
    .output(z.array(Health))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const rows = await listVehicleHealth(db, ctx.session.tenantId, input.vehicleId);
        if (input.vehicleId && rows.length === 0)
          throw new TRPCError({ code: 'NOT_FOUND', message: 'no such vehicle' });
        return rows;
      }),
    ),

  /** Credentials for the vehicle's agent, shown once (the database keeps the broker's hash only). */
  provision: manage
    .input(VehicleInput)
    .output(Credentials)
    .mutation(({ ctx, input }) =>
      ctx
        .tenant((db) =>
          devicesOf(ctx).provision(db, ctx.session.tenantId, input.vehicleId, `user:${ctx.session.userId}`),
        )
        .then(shownOnce, asApiError),
    ),

  /** A new password; the old one is refused from now on. Shown once. */
  rotate: manage
    .input(VehicleInput)
    .output(Credentials)
    .mutation(({ ctx, input }) =>
      ctx
        .tenant((db) =>
          devicesOf(ctx).rotate(db, ctx.session.tenantId, input.vehicleId, `user:${ctx.session.userId}`),
        )
        .then(shownOnce, asApiError),
    ),

  /** The broker refuses the device's next connection at once. */
  revoke: manage
    .input(VehicleInput)
    .output(z.object({ revoked: z.boolean() }))
    .mutation(({ ctx, input }) =>
      ctx
        .tenant((db) =>
          devicesOf(ctx).revoke(db, ctx.session.tenantId, input.vehicleId, `user:${ctx.session.userId}`),
        )
        .then(() => ({ revoked: true }), asApiError),
    ),
});
