import { type ByteEndpoint, DataListeners } from './endpoint.ts';

/**
 * Two endpoints wired back to back, for tests: bytes written on one arrive at the other's
 * listeners on a later microtask, never re-entrantly inside `write()`.
 */
export function createEndpointPair(
  names: [string, string] = ['device', 'host'],
): [ByteEndpoint, ByteEndpoint] {
  const a = new DataListeners();
  const b = new DataListeners();
  let open = true;
  // disconnect() on either side cuts the wire both ways until reconnect().
  let wired = true;
  const side = (name: string, own: DataListeners, peer: DataListeners): ByteEndpoint => ({
    description: `memory:${name}`,
    write(bytes) {
      if (!open || !wired) return;
      const copy = Uint8Array.from(bytes);
      queueMicrotask(() => peer.emit(copy));
    },
    onData: (listener) => own.add(listener),
    async disconnect() {
      wired = false;
    },
    async reconnect() {
      wired = true;
    },
    async close() {
      open = false;
      own.clear();
    },
  });
  return [side(names[0], a, b), side(names[1], b, a)];
}
