import { createServer, type Socket } from 'node:net';
import { createLogger, type Logger } from '@fleet/shared/log';
import { SimError, SimErrorCode } from '../errors.ts';
import { type ByteEndpoint, DataListeners } from './endpoint.ts';

export interface TcpEndpointOptions {
  logger?: Logger;
}

/**
 * A TCP listener the host connects to, like a WiFi ELM327 adapter (usually 192.168.0.10:35000).
 * One client at a time, as those adapters do: a second connection is closed at once while the
 * first is up. Bytes written with no client connected are dropped, as a device's UART would.
 */
export async function openTcpEndpoint(
  host: string,
  port: number,
  options: TcpEndpointOptions = {},
): Promise<ByteEndpoint> {
  const log = options.logger ?? createLogger('transport', { endpoint: `tcp://${host}:${port}` });
  const listeners = new DataListeners();
  let client: Socket | null = null;
  let hostArrived: () => void = () => {};
  const firstHostConnected = new Promise<void>((resolve) => {
    hostArrived = resolve;
  });

  const server = createServer();
  server.on('connection', (socket) => {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (client) {
      log.warn({ peer }, 'refusing a second client: one at a time');
      socket.destroy();
      return;
    }
    client = socket;
    hostArrived();
    socket.setNoDelay(true);
    log.info({ peer }, 'client connected');
    socket.on('data', (chunk) => listeners.emit(chunk));
    socket.on('error', (err) => log.debug({ peer, err: err.message }, 'client socket error'));
    socket.on('close', () => {
      if (client === socket) client = null;
      log.info({ peer }, 'client disconnected');
    });
  });

  const listen = (onPort: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(
          new SimError(
            SimErrorCode.ListenFailed,
            `cannot listen on ${host}:${onPort}: ${err.code ?? err.message}`,
            { cause: err },
          ),
        );
      };
      server.once('error', onError);
      server.listen(onPort, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
  await listen(port);
  server.on('error', (err) => log.warn({ err: err.message }, 'listener error'));

  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const hostText = host.includes(':') ? `[${host}]` : host;
  let connected = true;
  let closed = false;
  const stopListening = (): Promise<void> =>
    new Promise<void>((resolve) => {
      client?.destroy();
      client = null;
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  return {
    description: `tcp://${hostText}:${boundPort}`,
    firstHostConnected,
    write(bytes) {
      if (connected && client && !client.destroyed) client.write(bytes);
    },
    onData: (listener) => listeners.add(listener),
    close() {
      closed = true;
      listeners.clear();
      return stopListening();
    },
    async disconnect() {
      if (!connected || closed) return;
      connected = false;
      log.info('device gone: client dropped, not listening');
      await stopListening();
    },
    async reconnect() {
      if (connected || closed) return;
      // The same port again, as a WiFi adapter coming back keeps its address.
      await listen(boundPort);
      connected = true;
      log.info('device back: listening again');
    },
  };
}
