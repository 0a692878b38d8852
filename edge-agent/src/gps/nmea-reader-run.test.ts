import { createLogger } from '@fleet/shared/log';
import { describe, expect, it } from 'vitest';
import type { ByteStream } from '../transport/byte-stream.ts';
import type { GpsFix, GpsNoFix } from './nmea/rmc.ts';
import { NmeaReader } from './nmea-reader.ts';

const log = createLogger('nmea-reader-run-test').child({}, { level: 'silent' });

function sentence(body: string): string {
  const sum = [...body].reduce((x, c) => x ^ c.charCodeAt(0), 0);
  return `$${body}*${sum.toString(16).toUpperCase().padStart(2, '0')}\r\n`;
}

/** An in-memory port the test writes "receiver" bytes into and can unplug. */
function fakePort(name: string) {
  let data: (chunk: Buffer) => void = () => {};
  let closed: (err?: Error) => void = () => {};
  let open = true;
  const stream: ByteStream = {
    name,
    write: async () => {},
    onData: (l) => {
      data = l;
    },
    onClose: (l) => {
      closed = l;
    },
    close: async () => {
      if (open) {
        open = false;
        closed();
      }
    },
  };
  return {
    stream,
    send: (text: string) => data(Buffer.from(text, 'latin1')),
    unplug: () => {
      open = false;
      closed(new Error('unplugged'));
    },
  };
}

const until = async (what: string, condition: () => boolean, timeoutMs = 3000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

const epoch = (t: string) =>
  sentence(`GPRMC,${t},A,4807.0380,N,01131.0000,E,022.4,084.4,010524,,,A`) +
  sentence(`GPGGA,${t},4807.0380,N,01131.0000,E,1,08,0.9,545.4,M,46.9,M,,`);

describe('NmeaReader.run on a port', () => {
  it('reports an epoch once the burst is over (idle), without waiting for the next second', async () => {
    const port = fakePort('/dev/fake0');
    const fixes: GpsFix[] = [];
    const noFix: GpsNoFix[] = [];
    let opened = false;
    const open = async () => {
      opened = true;
      return port.stream;
    };
    const reader = new NmeaReader(open, (f) => fixes.push(f), log, {
      epochIdleMs: 40,
      onNoFix: (r) => noFix.push(r),
    });
    const running = reader.run();
    await until('port opened', () => opened);
    await new Promise((r) => setTimeout(r, 5));
    port.send(epoch('080000.00'));
    await until('the fix', () => fixes.length === 1);
    expect(fixes[0]).toMatchObject({ ts: Date.UTC(2024, 4, 1, 8), mode: 3, satellitesUsed: 8 });
    port.send(sentence('GPRMC,080001.00,V,,,,,,,010524,,,N'));
    await until('the no-fix report', () => noFix.length === 1);
    expect(noFix[0]!.ts).toBe(Date.UTC(2024, 4, 1, 8, 0, 1));
    await reader.stop();
    await running;
  });

  it('reopens the port after an unplug and carries on', async () => {
    const ports = [fakePort('/dev/fake0'), fakePort('/dev/fake0')];
    let opens = 0;
    const fixes: GpsFix[] = [];
    const reader = new NmeaReader(
      async () => {
        opens++;
        if (opens === 2) throw new Error('ENOENT (still unplugged)');
        return ports[opens === 1 ? 0 : 1]!.stream;
      },
      (f) => fixes.push(f),
      log,
      { epochIdleMs: 20, retryDelayMs: 100 },
    );
    const running = reader.run();
    await until('first open', () => opens === 1);
    await new Promise((r) => setTimeout(r, 5));
    ports[0]!.send(epoch('080000.00'));
    await until('fix 1', () => fixes.length === 1);
    // Half a sentence, then the cable goes: the half must not glue onto the next port's data.
    ports[0]!.send('$GPRMC,080001.00,A,48');
    ports[0]!.unplug();
    await until('reopened', () => opens === 3);
    await new Promise((r) => setTimeout(r, 5));
    ports[1]!.send(epoch('080002.00'));
    await until('fix 2', () => fixes.length === 2);
    expect(fixes.map((f) => f.ts % 60_000)).toEqual([0, 2000]);
    expect(reader.stats.bad.truncated).toBe(1); // the half sentence the unplug cut
    expect(reader.stats.badSentences).toBe(1);
    await reader.stop();
    await running;
  });

  it('stop() ends run() promptly even while waiting to retry', async () => {
    const reader = new NmeaReader(
      async () => {
        throw new Error('ENOENT');
      },
      () => {},
      log,
      { retryDelayMs: 60_000 },
    );
    const running = reader.run();
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await reader.stop();
    await running;
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
