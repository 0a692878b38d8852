import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isSimError, SimErrorCode } from '../errors.ts';
import type { ByteEndpoint } from './endpoint.ts';
import { createEndpointPair, openEndpoint, parseEndpointSpec } from './index.ts';

const open: ByteEndpoint[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(open.splice(0).map((e) => e.close()));
});

function connectTo(description: string): Promise<Socket> {
  const url = new URL(description);
  return new Promise((resolve, reject) => {
    const s = connect(Number(url.port), url.hostname, () => resolve(s));
    s.once('error', reject);
    sockets.push(s);
  });
}

const nextData = (s: Socket): Promise<string> => new Promise((r) => s.once('data', (b) => r(b.toString())));
const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('parseEndpointSpec', () => {
  it('tells TCP listeners from serial paths', () => {
    expect(parseEndpointSpec('tcp://127.0.0.1:35000')).toEqual({
      kind: 'tcp',
      host: '127.0.0.1',
      port: 35000,
    });
    expect(parseEndpointSpec('TCP://0.0.0.0:0')).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 0 });
    expect(parseEndpointSpec('tcp://[::1]:2947')).toEqual({ kind: 'tcp', host: '::1', port: 2947 });
    expect(parseEndpointSpec('/dev/pts/3')).toEqual({ kind: 'serial', path: '/dev/pts/3' });
    expect(parseEndpointSpec('/tmp/elm-sim')).toEqual({ kind: 'serial', path: '/tmp/elm-sim' });
  });

  it('rejects malformed specs with a clear error', () => {
    for (const bad of ['tcp://localhost', 'tcp://:35000', 'tcp://h:99999', 'udp://h:1', '']) {
      try {
        parseEndpointSpec(bad);
        expect.unreachable(bad);
      } catch (err) {
        expect(isSimError(err, SimErrorCode.InvalidEndpointSpec)).toBe(true);
      }
    }
  });
});

describe('endpoints', () => {
  it('reports a missing serial device as PortNotFound', async () => {
    await expect(openEndpoint('/dev/firmware-sim-does-not-exist')).rejects.toSatisfy((err: unknown) =>
      isSimError(err, SimErrorCode.PortNotFound),
    );
  });

  it('listens on TCP, one client at a time', async () => {
    const ep = await openEndpoint('tcp://127.0.0.1:0');
    open.push(ep);
    expect(ep.description).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(ep.description).not.toMatch(/:0$/);
    const received: string[] = [];
    ep.onData((b) => received.push(Buffer.from(b).toString()));

    const first = await connectTo(ep.description);
    await tick();
    first.write('ATI\r');
    await tick();
    expect(received.join('')).toBe('ATI\r');
    const reply = nextData(first);
    ep.write(Buffer.from('ELM327 v1.5\r\r>'));
    expect(await reply).toBe('ELM327 v1.5\r\r>');

    // A second client is turned away while the first is connected.
    const second = await connectTo(ep.description);
    const closed = new Promise<void>((r) => second.once('close', () => r()));
    await closed;

    // Once the first leaves, a new client is served.
    first.destroy();
    await tick();
    const third = await connectTo(ep.description);
    await tick();
    const got = nextData(third);
    ep.write(Buffer.from('hello'));
    expect(await got).toBe('hello');
  });

  it('drops its client and stops listening on disconnect(), and listens on the same port after reconnect()', async () => {
    const ep = await openEndpoint('tcp://127.0.0.1:0');
    open.push(ep);
    const client = await connectTo(ep.description);
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    await tick();
    await ep.disconnect!();
    await closed;
    await expect(connectTo(ep.description)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    ep.write(Buffer.from('dropped'));
    await ep.reconnect!();
    const again = await connectTo(ep.description);
    await tick();
    const got = nextData(again);
    ep.write(Buffer.from('back'));
    expect(await got).toBe('back');
  });

  it('refuses a port already in use', async () => {
    const ep = await openEndpoint('tcp://127.0.0.1:0');
    open.push(ep);
    await expect(openEndpoint(ep.description)).rejects.toSatisfy((err: unknown) =>
      isSimError(err, SimErrorCode.ListenFailed),
    );
  });

  it('pairs two in-memory endpoints back to back', async () => {
    const [a, b] = createEndpointPair();
    const got: string[] = [];
    b.onData((bytes) => got.push(Buffer.from(bytes).toString()));
    a.write(Buffer.from('x'));
    expect(got).toEqual([]); // never inside write()
    await tick(1);
    expect(got).toEqual(['x']);
  });
});
