import type { AddressInfo } from 'node:net';
import net from 'node:net';
import type { Logger } from '@fleet/shared/log';
import { Aedes } from 'aedes';
import { MosquittoAcl, verifyMosquittoPassword } from '../devices/broker-auth.ts';

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
 * is dropped, a subscription is granted but forbidden messages are never forwarded.
 */
export async function startEmbeddedBroker(opts: {
  host: string;
  port: number;
  log: Logger;
  auth?: EmbeddedBrokerAuth;
}) {
  const broker = await Aedes.createBroker();
  const auth = opts.auth;
  if (auth) {
    const acl = new MosquittoAcl(auth.acl);
    const users = new WeakMap<object, string>();
    broker.authenticate = (client, username, password, done) => {
      const ok =
        !!username &&
        !!password &&
        verifyMosquittoPassword(auth.passwordFile, username, password.toString('utf8'));
      if (ok) users.set(client, username!);
      else opts.log.warn({ client: client.id, username }, 'mqtt sign-in refused');
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
        server.close();
        broker.close(() => resolve());
      }),
  };
}
