import { SerialPort } from 'serialport';

/** The pty pairs themselves come from the simulator's own transport (also used by its fleet mode). */
export { createPtyPair, type PtyPair, SOCAT_PATH as SOCAT } from '../src/transport/pty-pair.ts';

/** The host side of a pty: send a command, read until the ELM327 prompt. */
export async function openHost(path: string): Promise<{
  port: SerialPort;
  ask(cmd: string, timeoutMs?: number): Promise<string>;
  received(): string;
  close(): Promise<void>;
}> {
  const port = new SerialPort({ path, baudRate: 38400, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  let buffer = '';
  let all = '';
  port.on('data', (b: Buffer) => {
    buffer += b.toString('latin1');
    all += b.toString('latin1');
  });
  return {
    port,
    async ask(cmd, timeoutMs = 3000) {
      buffer = '';
      port.write(`${cmd}\r`);
      const deadline = Date.now() + timeoutMs;
      while (!buffer.endsWith('>')) {
        if (Date.now() > deadline) throw new Error(`no prompt after ${cmd}: ${JSON.stringify(buffer)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return buffer;
    },
    received: () => all,
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
}
