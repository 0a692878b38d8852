import { unwatchFile, watchFile } from 'node:fs';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import type { Logger } from '@fleet/shared/log';
import { Aedes } from 'aedes';
import { MosquittoAcl, passwordEntry, verifyPasswordHash } from '../devices/broker-auth.ts';

export interface EmbeddedBrokerAuth {
  /** Mosquitto-format password file (`fleet-cloud device provision` writes it); read at every connect. */
  passwordFile: string;
  /** Mosquitto-format ACL text (docker/mosquitto/acl, base topic substituted). */
  acl: string;
}

/**
 * The embedded MQTT broker (aedes, in-process) for laptops and the embedded test run.
 * Production uses Mosquitto (docker/mosquitto); the agent and ingest only see a URL.
 * Its in-memory persistence keeps QoS 1 sessions while the process lives, not across restarts.
 * With `auth`, it signs clients in and applies the ACL as Mosquitto does: a forbidden publish
 * is dropped, a subscription is granted but forbidden messages are never forwarded. When the
 * password file changes (a device revoked or rotated from the dashboard), a connected client whose
 * login is gone or changed is dropped, as Mosquitto 2 does on its reload.
 */
export async function startEmbeddedBroker(opts: {
  host: string;
  port: number;
  log: Logger;
  auth?: EmbeddedBrokerAuth;
}) {
  const broker = await Aedes.createBroker();
  const auth = opts.auth;
  let stopWatching = () => {};
  if (auth) {
    const acl = new MosquittoAcl(auth.acl);
    const users = new WeakMap<object, string>();
    /** Connected clients and the password-file entry they signed in with. */
    const signedIn = new Map<{ close(): void; id: string }, { username: string; entry: string }>();
    broker.authenticate = (client, username, password, done) => {
      const entry = username ? passwordEntry(auth.passwordFile, username) : null;
      const ok =
        !!username && !!password && entry !== null && verifyPasswordHash(entry, password.toString('utf8'));
      if (ok) {
        users.set(client, username!);
        signedIn.set(client, { username: username!, entry: entry! });
      } else opts.log.warn({ client: client.id, username }, 'mqtt sign-in refused');
      done(ok ? null : Object.assign(new Error('bad user name or password'), { returnCode: 4 }), ok);
    };
    broker.authorizePublish = (client, packet, done) => {
      // aedes publishes the will and $SYS itself with client null: trusted.
      if (!client || acl.allowed(users.get(client), client.id, 'write', packet.topic)) return done(null);
      opts.log.warn({ client: client.id, topic: packet.topic }, 'mqtt publish refused by ACL');
      done(new Error('not authorized'));
    };
    broker.authorizeForward = (client, packet) =>
      acl.allowed(users.get(client), client.id, 'read', packet.topic) ? packet : null;
    broker.on('clientDisconnect', (client) => signedIn.delete(client));
    // Polling, not fs.watch: the file is replaced by a rename, which inotify watches lose.
    const recheck = () => {
      for (const [client, login] of signedIn) {
        if (passwordEntry(auth.passwordFile, login.username) === login.entry) continue;
        opts.log.warn({ client: client.id, username: login.username }, 'mqtt login revoked: disconnecting');
        signedIn.delete(client);
        client.close();
      }
    };
    watchFile(auth.passwordFile, { interval: 100 }, recheck);
    stopWatching = () => unwatchFile(auth.passwordFile, recheck);
  }
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `mqtt://${opts.host}:${port}`;
  broker.on('clientError', (client, err) =>
    opts.log.debug({ client: client.id, err: err.message }, 'client error'),
  );
  opts.log.info({ url, auth: !!auth }, 'embedded MQTT broker (aedes) listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        stopWatching();
        server.close();
        broker.close(() => resolve());
      }),
  };
}
