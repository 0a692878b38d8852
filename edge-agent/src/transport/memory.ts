import type { ByteStream } from './byte-stream.ts';

/**
 * Two ByteStreams wired back to back in the same process, for tests and benches: bytes written on
 * one side reach the other side's listeners on a later microtask (never inside `write()`, as on a
 * real port). Closing either side closes both, like pulling the cable: both sides' `onClose`
 * listeners run once and later writes reject.
 */
export function createMemoryStreamPair(
  names: [string, string] = ['memory:host', 'memory:device'],
): [ByteStream, ByteStream] {
  type Side = { data: ((chunk: Buffer) => void)[]; close: ((err?: Error) => void)[] };
  const sides: [Side, Side] = [
    { data: [], close: [] },
    { data: [], close: [] },
  ];
  let open = true;
  const closeBoth = () => {
    if (!open) return;
    open = false;
    for (const side of sides) for (const l of side.close.splice(0)) l();
  };
  const stream = (index: 0 | 1): ByteStream => {
    const own = sides[index];
    const peer = sides[index === 0 ? 1 : 0];
    return {
      name: names[index],
      async write(data) {
        if (!open) throw new Error(`${names[index]} is closed`);
        const copy = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
        queueMicrotask(() => {
          if (open) for (const l of peer.data) l(copy);
        });
      },
      onData(listener) {
        own.data.push(listener);
      },
      onClose(listener) {
        if (!open) queueMicrotask(() => listener());
        else own.close.push(listener);
      },
      async close() {
        closeBoth();
      },
    };
  };
  return [stream(0), stream(1)];
}
