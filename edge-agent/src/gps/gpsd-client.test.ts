import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createLogger } from '@fleet/shared/log';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentErrorCode, isAgentError } from '../errors.ts';
import { GpsdClient, parseGpsdAddress } from './gpsd-client.ts';
import type { GpsFix, GpsNoFix } from './nmea/rmc.ts';

const log = createLogger('gpsd-client-test').child({}, { level: 'silent' });

function client(options: Partial<ConstructorParameters<typeof GpsdClient>[0]> = {}) {
  const fixes: GpsFix[] = [];
  const noFix: GpsNoFix[] = [];
  const c = new GpsdClient(
    { host: '127.0.0.1', port: 1, onNoFix: (r) => noFix.push(r), ...options },
    (f) => fixes.push(f),
    log,
  );
  return { c, fixes, noFix };
}

const VERSION = '{"class":"VERSION","release":"3.22","rev":"3.22","proto_major":3,"proto_minor":14}';
const DEVICES =
  '{"class":"DEVICES","devices":[{"class":"DEVICE","path":"/dev/pts/1","driver":"NMEA0183","bps":38400}]}';
const WATCH = '{"class":"WATCH","enable":true,"json":true,"nmea":false}';
const SKY =
  '{"class":"SKY","device":"/dev/pts/1","hdop":0.64,"pdop":1.05,"vdop":0.83,' +
  '"satellites":[{"PRN":5,"used":false},{"PRN":10,"used":true},{"PRN":13,"used":true}]}';
const TPV =
  '{"class":"TPV","device":"/dev/pts/1","mode":3,"time":"2024-05-01T08:00:05.000Z","ept":0.005,' +
  '"lat":48.117300000,"lon":11.516666667,"altHAE":592.3,"altMSL":545.4,"alt":545.4,"track":84.4,' +
  '"speed":11.524,"eph":17.1}';

describe('parseGpsdAddress', () => {
  it('reads HOST[:PORT] and [IPv6][:PORT], port default 2947', () => {
    expect(parseGpsdAddress('127.0.0.1:2948')).toEqual({ host: '127.0.0.1', port: 2948 });
    expect(parseGpsdAddress('gpsd.local')).toEqual({ host: 'gpsd.local', port: 2947 });
    expect(parseGpsdAddress('[::1]:3000')).toEqual({ host: '::1', port: 3000 });
    expect(parseGpsdAddress('[::1]')).toEqual({ host: '::1', port: 2947 });
  });

  it('refuses anything else with a configuration error', () => {
    for (const bad of ['', ':2947', 'a:b:c', 'host:0', 'host:70000', 'host:port', 'tcp://host:1']) {
      let err: unknown;
      try {
        parseGpsdAddress(bad);
      } catch (e) {
        err = e;
      }
      expect(isAgentError(err, AgentErrorCode.ConfigInvalid), bad).toBe(true);
    }
  });
});

describe('GpsdClient protocol handling (push)', () => {
  it('turns TPV (+ the last SKY) into a GpsFix; keeps VERSION and DEVICES', () => {
    const { c, fixes } = client();
    c.push(`${VERSION}\r\n${DEVICES}\r\n${WATCH}\r\n${TPV}\r\n${SKY}\r\n`);
    // The TPV is held until its epoch is over (gpsd may send a more complete one for the same time).
    expect(fixes).toEqual([]);
    c.flush();
    expect(c.version).toBe('3.22');
    expect(c.devices.map((d) => d.path)).toEqual(['/dev/pts/1']);
    expect(fixes).toEqual([
      {
        ts: Date.UTC(2024, 4, 1, 8, 0, 5),
        lat: 48.1173,
        lon: 11.516666667,
        speedKmh: 11.524 * 3.6,
        courseDeg: 84.4,
        altitudeM: 545.4,
        mode: 3,
        satellitesUsed: 2,
        satellitesVisible: 3,
        hdop: 0.64,
        pdop: 1.05,
        vdop: 0.83,
        ephM: 17.1,
        source: 'gpsd',
      },
    ]);
    expect(c.stats).toMatchObject({ lines: 5, tpv: 1, sky: 1, fixes: 1, badLines: 0 });
  });

  it('reassembles lines split anywhere, including inside a UTF-8 character', () => {
    const text = `${VERSION}\r\n{"class":"ERROR","message":"caf\u00e9"}\r\n${TPV}\r\n`;
    const bytes = Buffer.from(text, 'utf8');
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const { c, fixes } = client();
      c.push(bytes.subarray(0, cut));
      c.push(bytes.subarray(cut));
      c.flush();
      expect(fixes, `cut ${cut}`).toHaveLength(1);
      expect(c.stats.badLines).toBe(0);
    }
  });

  it('reports mode 1 as no fix, an undated position as undated, one epoch reported twice once', () => {
    const { c, fixes, noFix } = client();
    c.push('{"class":"TPV","mode":1}\n');
    c.push('{"class":"TPV","mode":2,"lat":48.48,"lon":0.36}\n');
    // gpsd before it knows the cycle: a 2D report after RMC, then the 3D one after GGA.
    const partial =
      '{"class":"TPV","mode":2,"time":"2024-05-01T08:00:05.000Z","lat":48.1173,"lon":11.516666667}';
    c.push(`${partial}\n${TPV}\n`);
    c.push(`${TPV.replace('08:00:05', '08:00:06')}\n`);
    expect(noFix).toEqual([
      { ts: null, mode: 1, satellitesUsed: null, satellitesVisible: null, source: 'gpsd' },
    ]);
    expect(fixes).toHaveLength(1);
    expect(fixes[0]).toMatchObject({ ts: Date.UTC(2024, 4, 1, 8, 0, 5), mode: 3, altitudeM: 545.4 });
    c.flush();
    expect(fixes).toHaveLength(2);
    expect(c.stats).toMatchObject({ noFix: 1, undated: 1, repeats: 1, fixes: 2 });
  });

  it('counts every bad line by reason and keeps going', () => {
    const { c, fixes } = client({ maxLineLength: 1024 });
    c.push('not json\n{"class":\n[1,2]\n{"mode":3}\n{"class":"TPV","mode":7}\n');
    c.push('{"class":"TPV","mode":3,"lat":"north","lon":1,"time":"2024-05-01T00:00:00Z"}\n');
    c.push('{"class":"TPV","mode":3,"lat":95,"lon":1,"time":"2024-05-01T00:00:00Z"}\n');
    c.push('{"class":"TPV","mode":3,"lat":1,"lon":1,"time":"yesterday"}\n');
    c.push(`${'x'.repeat(3000)}\n`);
    c.push('{"class":"PPS","device":"/dev/pps0"}\n{"class":"TOFF"}\n');
    c.push(`${TPV}\n`);
    c.flush();
    expect(c.stats.bad).toEqual({ 'too-long': 1, 'not-json': 3, 'no-class': 1, 'bad-field': 4 });
    expect(c.stats.badLines).toBe(9);
    expect(c.stats.ignored).toBe(2);
    expect(fixes).toHaveLength(1);
  });

  it('never holds more than maxLineLength characters of an endless line', () => {
    const { c, fixes } = client({ maxLineLength: 2048 });
    for (let i = 0; i < 1000; i++) c.push('{"class":"TPV","junk":"'.padEnd(1000, 'x'));
    expect((c as unknown as { pending: string }).pending.length).toBeLessThanOrEqual(2048);
    expect(c.stats.bad['too-long']).toBe(1); // one line, counted once
    c.push(`\n${TPV}\n`);
    c.flush();
    expect(fixes).toHaveLength(1);
  });

  it('with `device`, ignores the other receivers gpsd serves', () => {
    const { c, fixes } = client({ device: '/dev/ttyACM0' });
    c.push(`${TPV}\n${TPV.replace('/dev/pts/1', '/dev/ttyACM0')}\n`);
    c.flush();
    expect(fixes).toHaveLength(1);
    expect(c.stats.otherDevice).toBe(1);
  });

  it('reads gpsd 3.22’s real output for a receiver (sirfstarv-nmea.log.chk): one fix per TPV time', () => {
    const chk = path.resolve(
      import.meta.dirname,
      '../../..',
      '..',
      'shared',
      'data',
      'gpsd-logs',
      'sirfstarv-nmea.log.chk',
    );
    if (!existsSync(chk))
      throw new Error(`${chk} missing: the shared gpsd captures are needed next to the repository`);
    const text = readFileSync(chk, 'latin1');
    const tpvTimes = new Set(
      text
        .split('\n')
        .filter((l) => l.startsWith('{"class":"TPV"') && l.includes('"time"') && l.includes('"lat"'))
        .map((l) => Date.parse((JSON.parse(l) as { time: string }).time)),
    );
    const { c, fixes } = client();
    c.push(text); // the echoed NMEA lines are not JSON: counted, skipped
    c.flush();
    expect(fixes.map((f) => f.ts)).toEqual([...tpvTimes]);
    expect(c.stats.bad['not-json']).toBeGreaterThan(300);
    expect(c.stats.sky).toBeGreaterThan(0);
    expect(fixes.every((f) => f.source === 'gpsd')).toBe(true);
    // Every TPV after gpsd's first SKY carries its satellite counts.
    expect(fixes.slice(3).every((f) => f.satellitesVisible !== null && f.hdop !== null)).toBe(true);
  });
});

/** A scripted gpsd: answers each connection with VERSION, waits for ?WATCH, then plays lines. */
class FakeGpsd {
  readonly server = net.createServer();
  readonly watches: string[] = [];
  private sockets = new Set<net.Socket>();
  onWatch: (socket: net.Socket) => void = () => {};

  async listen(port = 0): Promise<number> {
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.write(`${VERSION}\r\n`);
      socket.on('data', (d) => {
        this.watches.push(d.toString());
        if (d.toString().startsWith('?WATCH=')) this.onWatch(socket);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  dropClients(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropClients();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const until = async (what: string, condition: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('GpsdClient over TCP', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it('sends ?WATCH, reads the session, and reconnects (with backoff) when gpsd drops it', async () => {
    const gpsd = new FakeGpsd();
    const port = await gpsd.listen();
    cleanup.push(() => gpsd.close());
    let session = 0;
    gpsd.onWatch = (socket) => {
      session++;
      const tpv = TPV.replace('08:00:05', `08:00:0${session}`);
      // Odd chunk boundaries, like a real socket.
      const text = `${DEVICES}\r\n${WATCH}\r\n${tpv}\r\n`;
      socket.write(text.slice(0, 50));
      setTimeout(() => socket.write(text.slice(50)), 5);
    };
    const { c, fixes } = client({ port, minBackoffMs: 50, maxBackoffMs: 200 });
    const running = c.run();
    cleanup.push(() => c.stop());
    await until('first fix', () => fixes.length === 1);
    expect(gpsd.watches[0]).toBe('?WATCH={"enable":true,"json":true}\n');
    gpsd.dropClients();
    await until('second session', () => fixes.length === 2);
    expect(c.stats).toMatchObject({ connects: 2, disconnects: 1 });
    expect(fixes.map((f) => f.ts)).toEqual([Date.UTC(2024, 4, 1, 8, 0, 1), Date.UTC(2024, 4, 1, 8, 0, 2)]);
    await c.stop();
    await running;
  });

  it('keeps retrying while gpsd is down, and connects once it is up', async () => {
    const probe = new FakeGpsd();
    const port = await probe.listen();
    await probe.close(); // a port with nobody listening
    const { c, fixes } = client({ port, minBackoffMs: 20, maxBackoffMs: 80 });
    const running = c.run();
    cleanup.push(() => c.stop());
    await until('three refused connections', () => c.stats.connectFailures >= 3);
    const gpsd = new FakeGpsd();
    gpsd.onWatch = (socket) => socket.write(`${TPV}\r\n`);
    await gpsd.listen(port);
    cleanup.push(() => gpsd.close());
    await until('a fix after gpsd came up', () => fixes.length === 1);
    await c.stop();
    await running;
  });

  it('backs off exponentially between the bounds, with jitter', () => {
    const { c } = client({ minBackoffMs: 500, maxBackoffMs: 30_000 });
    for (const [failures, base] of [
      [0, 500],
      [1, 1000],
      [3, 4000],
      [10, 30_000],
      [100, 30_000],
    ] as const) {
      const d = c.backoff(failures);
      expect(d).toBeGreaterThanOrEqual(base * 0.8);
      expect(d).toBeLessThanOrEqual(base * 1.2);
    }
  });

  it('with failFirstConnect, rejects at once when gpsd is unreachable', async () => {
    const probe = new FakeGpsd();
    const port = await probe.listen();
    await probe.close();
    const { c } = client({ port, failFirstConnect: true });
    const err = await c.run().catch((e: unknown) => e);
    expect(isAgentError(err, AgentErrorCode.PortOpenFailed)).toBe(true);
    expect((err as Error).message).toMatch(/cannot reach gpsd at 127\.0\.0\.1:\d+: ECONNREFUSED/);
  });
});
