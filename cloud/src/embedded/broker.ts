import type { AddressInfo } from 'node:net';
import net from 'node:net';
import type { Logger } from '@fleet/shared/log';
import { Aedes } from 'aedes';

/**
 * The embedded MQTT broker (aedes, in-process) for laptops and the embedded test run.
 * Production uses Mosquitto (docker/mosquitto); the agent and ingest only see a URL.
 * Its in-memory persistence keeps QoS 1 sessions while the process lives, not across restarts.
 */
export async function startEmbeddedBroker(opts: { host: string; port: number; log: Logger }) {
  const broker = await Aedes.createBroker();
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
  opts.log.info({ url }, 'embedded MQTT broker (aedes) listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close();
        broker.close(() => resolve());
      }),
  };
}
