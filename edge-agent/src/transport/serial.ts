import { access } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { ByteStream } from './byte-stream.ts';

/** [1200...4000000], default 38400: the ELM327's factory rate. */
export const DEFAULT_BAUD = 38_400;

/** Opens a serial device (real UART, USB adapter or a pty) and explains failures plainly. */
export async function openSerial(path: string, baudRate = DEFAULT_BAUD): Promise<ByteStream> {
  try {
    await access(path);
  } catch {
    throw new AgentError(
      AgentErrorCode.PortNotFound,
      `serial port ${path} does not exist (is the adapter plugged in?)`,
    );
  }
  const port = new SerialPort({ path, baudRate, autoOpen: false, lock: true });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => {
      if (!err) return resolve();
      const busy = /lock|busy|EBUSY/i.test(err.message);
      reject(
        new AgentError(
          busy ? AgentErrorCode.PortBusy : AgentErrorCode.PortOpenFailed,
          busy
            ? `serial port ${path} is in use by another program`
            : `cannot open serial port ${path}: ${err.message}`,
          { cause: err },
        ),
      );
    });
  });
  // A write into a device that just went away (EIO on a pty whose other end closed, a USB adapter
  // pulled) is reported to write's callback and, by the stream, as an 'error' event too; with no
  // listener that event would kill the agent. The callback's rejection and 'close' carry it.
  port.on('error', () => {});
  return {
    name: path,
    write: (data) =>
      new Promise((resolve, reject) => {
        port.write(data, (err) => (err ? reject(err) : port.drain(() => resolve())));
      }),
    onData: (listener) => port.on('data', listener),
    onClose: (listener) => port.once('close', (err?: Error) => listener(err ?? undefined)),
    close: () =>
      new Promise((resolve) => {
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      }),
  };
}
