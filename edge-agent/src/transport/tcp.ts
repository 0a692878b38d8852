import net from 'node:net';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { ByteStream } from './byte-stream.ts';

/** A TCP byte stream, as WiFi ELM327 adapters offer (usually 192.168.0.10:35000). */
export async function openTcp(host: string, port: number): Promise<ByteStream> {
  const name = `tcp://${host}:${port}`;
  const socket = net.connect({ host, port });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (err) =>
      reject(
        new AgentError(AgentErrorCode.PortOpenFailed, `cannot connect to ${name}: ${err.message}`, {
          cause: err,
        }),
      ),
    );
  });
  socket.on('error', () => {}); // surfaced through onClose
  return {
    name,
    write: (data) =>
      new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve()))),
    onData: (listener) => socket.on('data', listener),
    onClose: (listener) => socket.once('close', () => listener()),
    close: async () => {
      socket.destroy();
    },
  };
}
