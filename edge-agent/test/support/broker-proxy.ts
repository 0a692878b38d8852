/**
 * A TCP proxy to a real MQTT broker on loopback that a sync test controls, standing in for the
 * link between the vehicle and the cloud:
 *   cut()        drops every connection and refuses new ones (the link is down and says so)
 *   blackhole()  keeps every socket open and silently discards what crosses it, new connections
 *                included (a tunnel, a dead cellular NAT: nothing tells the agent, only its
 *                keepalive finds out)
 *   restore()    forwards new connections again
 * `fromClient`, when given, sees the client's bytes of each connection instead of the plain
 * forwarding (e.g. to answer a SUBSCRIBE itself); it is made once per connection.
 */
import net from 'node:net';

export interface BrokerAddress {
  host: string;
  port: number;
}

export interface BrokerProxy {
  /** mqtt://127.0.0.1:<port> of the proxy. */
  url: string;
  cut(): void;
  blackhole(): void;
  restore(): void;
  close(): Promise<void>;
}

export type ClientInterceptor = (client: net.Socket, upstream: net.Socket) => (chunk: Buffer) => void;

export async function startBrokerProxy(
  broker: BrokerAddress,
  options: { fromClient?: ClientInterceptor } = {},
): Promise<BrokerProxy> {
  const sockets = new Set<net.Socket>();
  let mode: 'up' | 'cut' | 'blackhole' = 'up';
  const server = net.createServer((client) => {
    if (mode === 'cut') return client.destroy();
    const upstream = net.connect(broker);
    sockets.add(client).add(upstream);
    // Born in a blackhole, a connection stays dead: the client gives up on it and reconnects.
    let dead = mode === 'blackhole';
    const intercept = options.fromClient?.(client, upstream);
    const forward = (from: net.Socket, to: net.Socket, onData?: (chunk: Buffer) => void) =>
      from.on('data', (chunk: Buffer) => {
        if (mode === 'blackhole') dead = true;
        if (dead) return;
        if (onData) onData(chunk);
        else to.write(chunk);
      });
    forward(client, upstream, intercept);
    forward(upstream, client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dropAll = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut() {
      mode = 'cut';
      dropAll();
    },
    blackhole() {
      mode = 'blackhole';
    },
    restore() {
      mode = 'up';
    },
    close() {
      dropAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
