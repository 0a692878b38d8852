/**
 * The broker's list of who may sign in, as the cloud changes it when a device is provisioned,
 * rotated or revoked (devices/device-provisioning.ts).
 *
 *   devices.provision/rotate/revoke --> PasswordFileLogins: rewrite one line of the password file
 *        (temporary file + rename: a reader sees the old file or the new one, never half)
 *     --> aedes (embedded): reads the file at every CONNECT, and drops a connected client whose
 *         line changed (embedded/broker.ts watches the file)
 *     --> Mosquitto: SIGHUP (pid from its pid_file) re-reads the file; Mosquitto 2 then
 *         re-checks every connected client against it, so a revoked one is dropped too
 *
 * Why the password file and not Mosquitto's dynamic-security plugin: the shipped Mosquitto
 * config, the embedded broker and `fleet-cloud device` already share this file and its ACL
 * (docker/mosquitto/acl keys every vehicle on its username), so one mechanism serves both
 * brokers. The price: the cloud must be able to write the file and signal the broker (same host,
 * or a shared volume and PID namespace).
 */
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CloudError, CloudErrorCode } from '../errors.ts';

export interface BrokerLogins {
  /** Lets `username` sign in with the password whose Mosquitto hash is `passwordHash` (replacing any other). */
  allow(username: string, passwordHash: string): Promise<void>;
  /** Refuses `username` from its next connection on. Idempotent. */
  refuse(username: string): Promise<void>;
}

export interface PasswordFileLoginsOptions {
  /** The broker's password_file. */
  passwordFile: string;
  /** Makes the broker re-read the file (Mosquitto: SIGHUP); nothing for aedes, which reads per connect. */
  reload?: () => void | Promise<void>;
}

export class PasswordFileLogins implements BrokerLogins {
  /** One rewrite at a time in this process (other processes: the caller's database lock). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: PasswordFileLoginsOptions) {}

  allow(username: string, passwordHash: string): Promise<void> {
    if (passwordHash.includes('\n') || !passwordHash.startsWith('$'))
      throw new CloudError(CloudErrorCode.DeviceCredentials, 'not a Mosquitto password hash');
    return this.rewrite(username, `${username}:${passwordHash}`);
  }

  refuse(username: string): Promise<void> {
    return this.rewrite(username, null);
  }

  private lines(): string[] {
    try {
      return readFileSync(this.opts.passwordFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new CloudError(
        CloudErrorCode.DeviceCredentials,
        `cannot read the broker's password file: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  private rewrite(username: string, line: string | null): Promise<void> {
    const next = this.queue.then(async () => {
      const file = this.opts.passwordFile;
      const kept = this.lines().filter((l) => l.slice(0, l.indexOf(':')) !== username);
      if (line) kept.push(line);
      let mode = 0o600;
      try {
        mode = statSync(file).mode & 0o777; // the broker's user must still be able to read it
      } catch {}
      const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
      try {
        writeFileSync(tmp, kept.map((l) => `${l}\n`).join(''), { mode });
        renameSync(tmp, file);
      } catch (err) {
        throw new CloudError(
          CloudErrorCode.DeviceCredentials,
          `cannot write the broker's password file: ${(err as Error).message}`,
          { cause: err },
        );
      }
      await this.opts.reload?.();
    });
    this.queue = next.catch(() => {});
    return next;
  }
}

/**
 * SIGHUP to the broker whose pid its pid_file holds, read at every change (a restarted broker
 * has a new pid). Mosquitto re-reads its password file and ACL on SIGHUP.
 */
export function signalBrokerReload(pidFile: string): () => void {
  return () => {
    let pid: number;
    try {
      pid = Number(readFileSync(pidFile, 'utf8').trim());
    } catch (err) {
      throw new CloudError(
        CloudErrorCode.DeviceCredentials,
        `cannot read the broker's pid file ${pidFile}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (!Number.isInteger(pid) || pid <= 1)
      throw new CloudError(CloudErrorCode.DeviceCredentials, `no broker pid in ${pidFile}`);
    try {
      process.kill(pid, 'SIGHUP');
    } catch (err) {
      throw new CloudError(
        CloudErrorCode.DeviceCredentials,
        `cannot signal the broker (pid ${pid}): ${(err as Error).message}`,
        { cause: err },
      );
    }
  };
}
