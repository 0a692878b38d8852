/**
 * Per-vehicle MQTT credentials for Mosquitto's password file (the shipped config's
 * `password_file`), with the ACL in docker/mosquitto/acl keyed on the username: a vehicle signs in
 * as its vehicle id and may write only its own telemetry/status and read only its own ack and
 * commands. Provisioning and revocation edit the file with Debian's `mosquitto_passwd` (PBKDF2
 * hashes, never the plain password) and then ask the broker to reload it (SIGHUP), so nothing
 * restarts and no connected vehicle is dropped. Every change is written to the audit log.
 *
 * The plain password exists only in the return value of provision(): it goes to the vehicle
 * once (fleet-cloud device provision prints it) and is never logged or stored.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ID_PATTERN } from '@fleet/shared';
import type pg from 'pg';
import { appendAudit } from '../db/queries/audit-log.ts';
import { CloudError, CloudErrorCode } from '../errors.ts';

const run = promisify(execFile);

export interface DeviceCredentials {
  username: string;
  password: string;
}

export interface MosquittoCredentialsOptions {
  /** The broker's password_file. Created if missing. */
  passwordFile: string;
  /** Makes the broker re-read the file: e.g. `process.kill(pid, 'SIGHUP')`. */
  reload: () => Promise<void> | void;
  /** Debian's mosquitto_passwd (MOSQUITTO_PASSWD through config.ts), default /usr/bin/mosquitto_passwd. */
  passwdCommand?: string;
  /** Where provision/revoke are recorded (audit_log); optional for tooling without a database. */
  audit?: { db: pg.Pool | pg.PoolClient; actor: string };
}

export class MosquittoCredentials {
  constructor(private readonly opts: MosquittoCredentialsOptions) {}

  private async passwd(args: string[]) {
    const command = this.opts.passwdCommand ?? '/usr/bin/mosquitto_passwd';
    try {
      await run(command, args, { timeout: 10_000 });
    } catch (err) {
      throw new CloudError(
        CloudErrorCode.DeviceCredentials,
        `${command} failed (${args[0]}): ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** A fresh random password for `username` (a vehicle id, or a service such as fleet-ingest). */
  async provision(username: string, tenantId: string | null): Promise<DeviceCredentials> {
    if (!ID_PATTERN.test(username)) {
      throw new CloudError(
        CloudErrorCode.DeviceCredentials,
        `"${username}" is not a valid MQTT username here (allowed: ${ID_PATTERN.source})`,
      );
    }
    if (!existsSync(this.opts.passwordFile)) writeFileSync(this.opts.passwordFile, '', { mode: 0o600 });
    const password = randomBytes(24).toString('base64url');
    // -b takes the password as an argument: visible to `ps` for the instant the tool runs on the
    // cloud host, never on a vehicle or in a log.
    await this.passwd(['-b', this.opts.passwordFile, username, password]);
    await this.opts.reload();
    await this.record(tenantId, 'device.provision', username);
    return { username, password };
  }

  /** Removes `username`: the broker refuses its next connection. */
  async revoke(username: string, tenantId: string | null): Promise<void> {
    await this.passwd(['-D', this.opts.passwordFile, username]);
    await this.opts.reload();
    await this.record(tenantId, 'device.revoke', username);
  }

  private async record(tenantId: string | null, action: string, username: string) {
    if (!this.opts.audit) return;
    await appendAudit(this.opts.audit.db, {
      tenantId,
      actor: this.opts.audit.actor,
      action,
      entity: `mqtt-user:${username}`,
    });
  }
}
