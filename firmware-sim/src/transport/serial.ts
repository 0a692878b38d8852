import { existsSync } from 'node:fs';
import { createLogger, type Logger } from '@fleet/shared/log';
import { SerialPort } from 'serialport';
import { SimError, SimErrorCode } from '../errors.ts';
import { type ByteEndpoint, DataListeners } from './endpoint.ts';

export interface SerialEndpointOptions {
  /** Default: 38400, the ELM327's factory rate (a pty ignores it). */
  baudRate?: number;
  logger?: Logger;
}

/**
 * A serial device by path. `SerialPort.list()` never shows ptys, so the path is always given:
 * e.g. one end of `socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B`, the host opening B.
 */
export async function openSerialEndpoint(
  path: string,
  options: SerialEndpointOptions = {},
): Promise<ByteEndpoint> {
  const log = options.logger ?? createLogger('transport', { endpoint: path });
  if (!existsSync(path)) {
    throw new SimError(SimErrorCode.PortNotFound, `no such serial port: ${path}`);
  }
  const port = new SerialPort({ path, baudRate: options.baudRate ?? 38400, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => {
      if (err)
        reject(
          new SimError(SimErrorCode.PortOpenFailed, `cannot open ${path}: ${err.message}`, { cause: err }),
        );
      else resolve();
    });
  });

  const listeners = new DataListeners();
  let closing = false;
  port.on('data', (chunk: Buffer) => listeners.emit(chunk));
  port.on('error', (err: Error) => log.warn({ err: err.message }, 'serial port error'));
  port.on('close', (err: (Error & { disconnected?: boolean }) | null) => {
    // A pty vanishes when socat exits; the host side is gone too, so this is worth a warning.
    if (!closing) log.warn({ disconnected: err?.disconnected === true }, 'serial port closed unexpectedly');
  });

  return {
    description: path,
    write(bytes) {
      if (!port.isOpen) return;
      port.write(Buffer.from(bytes), (err) => {
        if (err) log.warn({ err: err.message }, 'serial write failed');
      });
    },
    onData: (listener) => listeners.add(listener),
    close() {
      closing = true;
      listeners.clear();
      if (!port.isOpen) return Promise.resolve();
      return new Promise<void>((resolve) => {
        port.close((err) => {
          if (err) log.warn({ err: err.message }, 'serial close failed');
          resolve();
        });
      });
    },
  };
}
