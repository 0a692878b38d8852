/**
 * A vehicle's device: the MQTT login its agent signs in with. Used by the API (devices router,
 * from the dashboard) and by `fleet-cloud devices`, both inside `inTenant()`:
 *
 *   provision / rotate: random password --> devices row (the broker's PBKDF2 hash only)
 *        --> BrokerLogins.allow (the broker takes it) --> audit --> credentials, returned once
 *   revoke:  devices row 'revoked' --> BrokerLogins.refuse (the broker refuses it at once) --> audit
 *
 * The broker is changed inside the database transaction, last: if the file cannot be written the
 * transaction rolls back and nothing changed. If the COMMIT itself fails after a revocation, the
 * broker already refuses the device (the safe side) and the admin's retry finds it still active.
 * The plain password exists only in the return value: never stored, never logged, never audited.
 */
import { randomBytes } from 'node:crypto';
import { ID_PATTERN } from '@fleet/shared';
import type pg from 'pg';
import { appendAudit } from '../db/queries/audit-log.ts';
import {
  type DeviceRow,
  listDevices,
  lockDevice,
  markDeviceRevoked,
  rotateDevicePassword,
  upsertActiveDevice,
} from '../db/queries/devices.ts';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { mosquittoPasswordHash } from './broker-auth.ts';
import { type BrokerLogins, PasswordFileLogins, signalBrokerReload } from './broker-logins.ts';

/** Everything `fleet-agent run` needs to start (its flags' environment variables). */
export interface DeviceCredentials {
  vehicleId: string;
  tenantId: string;
  username: string;
  password: string;
  mqttUrl: string;
  baseTopic: string;
}

export interface DeviceProvisioningOptions {
  /** null: this process cannot reach the broker's logins; every change is refused with a code. */
  logins: BrokerLogins | null;
  /** The broker URL vehicles use (may differ from the ingest's, e.g. mqtts://...:8883). */
  mqttUrl: string;
  baseTopic: string;
  /** Broker logins that belong to services (the ingest's): never handed to a device. */
  reservedUsernames?: readonly string[];
}

/** Serialises every change of the broker's logins across API processes and the CLI. */
const BROKER_LOGINS_LOCK = "hashtext('fleet:broker-logins')";

export class DeviceProvisioning {
  constructor(private readonly opts: DeviceProvisioningOptions) {}

  get configured(): boolean {
    return this.opts.logins !== null;
  }

  list(db: pg.PoolClient, tenantId: string, vehicleId?: string): Promise<DeviceRow[]> {
    return listDevices(db, tenantId, vehicleId);
  }

  /** A first device for the vehicle (or a new one after a revocation). */
  async provision(db: pg.PoolClient, tenantId: string, vehicleId: string, actor: string) {
    const logins = await this.prepare(db, tenantId, vehicleId);
    const existing = await lockDevice(db, vehicleId);
    if (existing?.status === 'active')
      throw new CloudError(
        CloudErrorCode.DeviceExists,
        `vehicle ${vehicleId} already has an active device: rotate its credentials or revoke it first`,
      );
    // Taking over a service's login (the ingest's) would lock that service out of the broker.
    if (!existing && (this.opts.reservedUsernames ?? []).includes(vehicleId))
      throw new CloudError(
        CloudErrorCode.DeviceNameReserved,
        `"${vehicleId}" is a service's broker login, not a vehicle's`,
      );
    const password = newPassword();
    const passwordHash = mosquittoPasswordHash(password);
    await upsertActiveDevice(db, { tenantId, vehicleId, username: vehicleId, passwordHash, actor });
    await logins.allow(vehicleId, passwordHash);
    await appendAudit(db, {
      tenantId,
      actor,
      action: 'device.provision',
      entity: `vehicle:${vehicleId}`,
      after: { mqttUsername: vehicleId, status: 'active' },
    });
    return this.credentials(tenantId, vehicleId, password);
  }

  /** A new password for an active device; the old one is refused from now on. */
  async rotate(db: pg.PoolClient, tenantId: string, vehicleId: string, actor: string) {
    const logins = await this.prepare(db, tenantId, vehicleId);
    const existing = await lockDevice(db, vehicleId);
    if (existing?.status !== 'active')
      throw new CloudError(CloudErrorCode.DeviceNotActive, `vehicle ${vehicleId} has no active device`);
    const password = newPassword();
    const passwordHash = mosquittoPasswordHash(password);
    await rotateDevicePassword(db, vehicleId, passwordHash);
    await logins.allow(existing.username, passwordHash);
    await appendAudit(db, { tenantId, actor, action: 'device.rotate', entity: `vehicle:${vehicleId}` });
    return this.credentials(tenantId, vehicleId, password);
  }

  /** The broker refuses the device's next connection (and drops it if connected). */
  async revoke(db: pg.PoolClient, tenantId: string, vehicleId: string, actor: string): Promise<void> {
    const logins = await this.prepare(db, tenantId, vehicleId);
    const existing = await lockDevice(db, vehicleId);
    if (existing?.status !== 'active')
      throw new CloudError(CloudErrorCode.DeviceNotActive, `vehicle ${vehicleId} has no active device`);
    await markDeviceRevoked(db, vehicleId);
    await logins.refuse(existing.username);
    await appendAudit(db, {
      tenantId,
      actor,
      action: 'device.revoke',
      entity: `vehicle:${vehicleId}`,
      before: { status: 'active' },
      after: { status: 'revoked' },
    });
  }

  /** The broker's logins, the vehicle checked, the cross-process lock taken. */
  private async prepare(db: pg.PoolClient, tenantId: string, vehicleId: string): Promise<BrokerLogins> {
    const logins = this.opts.logins;
    if (!logins)
      throw new CloudError(
        CloudErrorCode.BrokerLoginsUnconfigured,
        "this cloud cannot change the broker's logins: set FLEET_MQTT_PASSWORD_FILE (and FLEET_MQTT_BROKER_PID_FILE for Mosquitto)",
      );
    if (!ID_PATTERN.test(vehicleId))
      throw new CloudError(CloudErrorCode.DeviceUnknownVehicle, `no vehicle ${vehicleId}`);
    await db.query(`SELECT pg_advisory_xact_lock(${BROKER_LOGINS_LOCK})`);
    // RLS: another tenant's vehicle is not there, exactly like one that does not exist.
    const { rowCount } = await db.query('SELECT 1 FROM vehicles WHERE id = $1 AND tenant_id = $2', [
      vehicleId,
      tenantId,
    ]);
    if (!rowCount) throw new CloudError(CloudErrorCode.DeviceUnknownVehicle, `no vehicle ${vehicleId}`);
    return logins;
  }

  private credentials(tenantId: string, vehicleId: string, password: string): DeviceCredentials {
    return {
      vehicleId,
      tenantId,
      username: vehicleId,
      password,
      mqttUrl: this.opts.mqttUrl,
      baseTopic: this.opts.baseTopic,
    };
  }
}

/** 192 random bits: a fast broker hash (PBKDF2, 101 rounds) is then no weakness. */
function newPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** The lines a vehicle's agent is started with (`fleet-agent provision` reads the MQTT_* ones). */
export function agentEnvironment(c: DeviceCredentials): string {
  return [
    `FLEET_VEHICLE_ID=${c.vehicleId}`,
    `FLEET_TENANT_ID=${c.tenantId}`,
    `MQTT_URL=${c.mqttUrl}`,
    `FLEET_BASE_TOPIC=${c.baseTopic}`,
    `MQTT_USERNAME=${c.username}`,
    `MQTT_PASSWORD=${c.password}`,
  ].join('\n');
}

/** The service as configured (FLEET_MQTT_PASSWORD_FILE, FLEET_MQTT_BROKER_PID_FILE, ...): cloud and CLI. */
export function deviceProvisioningFrom(config: {
  brokerLogins?: { passwordFile: string; brokerPidFile?: string | undefined } | undefined;
  deviceMqttUrl: string;
  baseTopic: string;
  mqttUsername?: string | undefined;
}): DeviceProvisioning {
  const b = config.brokerLogins;
  return new DeviceProvisioning({
    logins: b
      ? new PasswordFileLogins({
          passwordFile: b.passwordFile,
          ...(b.brokerPidFile ? { reload: signalBrokerReload(b.brokerPidFile) } : {}),
        })
      : null,
    mqttUrl: config.deviceMqttUrl,
    baseTopic: config.baseTopic,
    // The ingest's own login (and the name the shipped ACL gives it) is never a vehicle's.
    reservedUsernames: ['fleet-ingest', ...(config.mqttUsername ? [config.mqttUsername] : [])],
  });
}
