import net from 'node:net';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import type { GpsFix } from '../gps/nmea/rmc.ts';
import {
  type CliIo,
  EXIT_OK,
  EXIT_USAGE,
  formatFix,
  formatNoFix,
  registerGpsCommands,
  runGpsCommand,
} from './gps.ts';

function capture(): CliIo & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (l) => out_.push(l), err: (l) => err_.push(l) };
}

function sentence(body: string): string {
  const sum = [...body].reduce((x, c) => x ^ c.charCodeAt(0), 0);
  return `$${body}*${sum.toString(16).toUpperCase().padStart(2, '0')}\r\n`;
}

/** A TCP "receiver" (like a WiFi NMEA bridge) sending one epoch every 20 ms to each client. */
async function nmeaServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    let s = 0;
    const timer = setInterval(() => {
      const t = `0800${String(s).padStart(2, '0')}.00`;
      if (s++ === 2)
        socket.write(sentence(`GPRMC,${t},V,,,,,,,010524,,,N`)); // searching once
      else {
        socket.write(sentence(`GPRMC,${t},A,4807.0380,N,01131.0000,E,022.4,084.4,010524,,,A`));
        socket.write(sentence(`GPGGA,${t},4807.0380,N,01131.0000,E,1,08,0.9,545.4,M,46.9,M,,`));
      }
    }, 20);
    socket.on('close', () => clearInterval(timer));
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `tcp://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.emit('close');
      }),
  };
}

/** A gpsd answering ?WATCH with a few TPVs. */
async function gpsdServer(): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.write('{"class":"VERSION","release":"3.22","rev":"3.22","proto_major":3,"proto_minor":14}\r\n');
    socket.once('data', () => {
      for (let i = 0; i < 5; i++) {
        socket.write(
          `{"class":"TPV","mode":3,"time":"2024-05-01T08:00:0${i}.000Z","lat":48.1173,"lon":11.5166667,"speed":11.524}\r\n`,
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('fleet-agent gps (runGpsCommand)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0)) await f();
  });

  it('exits 2 with one line on stderr for a serial port that does not exist', async () => {
    const io = capture();
    expect(await runGpsCommand({ nmea: '/dev/ttyGPS-does-not-exist' }, io)).toBe(EXIT_USAGE);
    expect(io.err_).toEqual([
      'fleet-agent gps: serial port /dev/ttyGPS-does-not-exist does not exist (is the adapter plugged in?) [E200]',
    ]);
    expect(io.out_).toEqual([]);
  });

  it('exits 2 with one line on stderr when gpsd is unreachable', async () => {
    const io = capture();
    const port = await closedPort();
    expect(await runGpsCommand({ gpsd: `127.0.0.1:${port}` }, io)).toBe(EXIT_USAGE);
    expect(io.err_).toHaveLength(1);
    expect(io.err_[0]).toMatch(
      /^fleet-agent gps: cannot reach gpsd at 127\.0\.0\.1:\d+: ECONNREFUSED .*\[E202\]$/,
    );
  });

  it.each([
    [{}, 'give exactly one GPS source: --gpsd HOST:PORT or --nmea PATH'],
    [{ gpsd: 'a:1', nmea: '/dev/x' }, 'give exactly one GPS source: --gpsd HOST:PORT or --nmea PATH'],
    [{ nmea: '/dev/x', count: '0' }, '--count expects an integer in [1...1000000], got "0"'],
    [{ nmea: '/dev/x', baud: 'fast' }, '--baud expects an integer in [1200...4000000], got "fast"'],
    [{ gpsd: 'host:99999' }, 'invalid gpsd address "host:99999": expected HOST:PORT'],
  ])('exits 2 on bad options %j', async (opts, message) => {
    const io = capture();
    expect(await runGpsCommand(opts, io)).toBe(EXIT_USAGE);
    expect(io.err_).toEqual([`fleet-agent gps: ${message}`]);
  });

  it('--nmea tcp://... --count 3 --json: one GpsFix per line, the searching epoch as mode 1', async () => {
    const source = await nmeaServer();
    cleanup.push(() => source.close());
    const io = capture();
    expect(await runGpsCommand({ nmea: source.url, count: '3', json: true }, io)).toBe(EXIT_OK);
    const lines = io.out_.map((l) => JSON.parse(l) as GpsFix | { mode: 1; ts: number });
    const fixes = lines.filter((l): l is GpsFix => l.mode !== 1);
    expect(fixes.map((f) => new Date(f.ts).toISOString())).toEqual([
      '2024-05-01T08:00:00.000Z',
      '2024-05-01T08:00:01.000Z',
      '2024-05-01T08:00:03.000Z',
    ]);
    expect(fixes[0]).toMatchObject({ lat: 48 + 7.038 / 60, mode: 3, altitudeM: 545.4, source: 'nmea' });
    expect(lines.filter((l) => l.mode === 1)).toEqual([
      {
        ts: Date.UTC(2024, 4, 1, 8, 0, 2),
        mode: 1,
        satellitesUsed: null,
        satellitesVisible: null,
        source: 'nmea',
      },
    ]);
    expect(io.err_).toEqual([]);
  });

  it('--gpsd HOST:PORT --count 2: human-readable lines', async () => {
    const gpsd = await gpsdServer();
    cleanup.push(() => gpsd.close());
    const io = capture();
    expect(await runGpsCommand({ gpsd: gpsd.address, count: '2' }, io)).toBe(EXIT_OK);
    expect(io.out_).toEqual([
      '2024-05-01T08:00:00.000Z  3D   48.1173000    11.5166667    41.5 km/h       -°        - m  sats -/-  hdop -  ±- m',
      '2024-05-01T08:00:01.000Z  3D   48.1173000    11.5166667    41.5 km/h       -°        - m  sats -/-  hdop -  ±- m',
    ]);
  });

  it('stops cleanly when interrupted (Ctrl-C)', async () => {
    const source = await nmeaServer();
    cleanup.push(() => source.close());
    const io = capture();
    const controller = new AbortController();
    const done = runGpsCommand({ nmea: source.url }, io, controller.signal);
    await new Promise((r) => setTimeout(r, 150));
    controller.abort();
    expect(await done).toBe(EXIT_OK);
    expect(io.out_.length).toBeGreaterThan(0);
  });
});

describe('registerGpsCommands', () => {
  it('adds `gps` to a commander program; its action sets the exit code', async () => {
    const io = capture();
    const program = registerGpsCommands(new Command('fleet-agent').exitOverride(), io);
    const gps = program.commands.find((c) => c.name() === 'gps')!;
    expect(gps.options.map((o) => o.long)).toEqual(['--gpsd', '--nmea', '--baud', '--count', '--json']);
    const previous = process.exitCode;
    try {
      await program.parseAsync(['gps', '--nmea', '/dev/ttyGPS-missing', '--count', '1'], { from: 'user' });
      expect(process.exitCode).toBe(EXIT_USAGE);
      expect(io.err_[0]).toContain('/dev/ttyGPS-missing does not exist');
    } finally {
      process.exitCode = previous;
    }
  });
});

describe('human-readable lines', () => {
  it('shows time, mode, position, speed, course, altitude, satellites, HDOP and error', () => {
    const fix: GpsFix = {
      ts: Date.UTC(2024, 4, 1, 8, 0, 0),
      lat: -45.8775671,
      lon: 170.5001113,
      speedKmh: 41.48,
      courseDeg: 84.4,
      altitudeM: 545.4,
      mode: 3,
      satellitesUsed: 8,
      satellitesVisible: 12,
      hdop: 0.9,
      pdop: 1.5,
      vdop: 1.2,
      ephM: 17.1,
      source: 'nmea',
    };
    expect(formatFix(fix)).toBe(
      '2024-05-01T08:00:00.000Z  3D  -45.8775671   170.5001113    41.5 km/h    84.4°    545.4 m  sats 8/12  hdop 0.9  ±17.1 m',
    );
    expect(formatNoFix({ ts: null, mode: 1, satellitesUsed: 0, satellitesVisible: 9, source: 'gpsd' })).toBe(
      '(no time yet)             no fix  sats 0/9',
    );
  });
});
