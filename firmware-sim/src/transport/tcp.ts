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

  const server = createServer((socket) => {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (client) {
      log.warn({ peer }, 'refusing a second client: one at a time');
      socket.destroy();
      return;
    }
    client = socket;
    socket.setNoDelay(true);
    log.info({ peer }, 'client connected');
    socket.on('data', (chunk) => listeners.emit(chunk));
    socket.on('error', (err) => log.debug({ peer, err: err.message }, 'client socket error'));
    socket.on('close', () => {
      if (client === socket) client = null;
      log.info({ peer }, 'client disconnected');
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new SimError(
          SimErrorCode.ListenFailed,
          `cannot listen on ${host}:${port}: ${err.code ?? err.message}`,
          { cause: err },
        ),
      );
    });
    server.listen(port, host, () => resolve());
  });
  server.on('error', (err) => log.warn({ err: err.message }, 'listener error'));

  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const hostText = host.includes(':') ? `[${host}]` : host;

  return {
    description: `tcp://${hostText}:${boundPort}`,
    write(bytes) {
      if (client && !client.destroyed) client.write(bytes);
    },
    onData: (listener) => listeners.add(listener),
    close() {
      listeners.clear();
      client?.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
