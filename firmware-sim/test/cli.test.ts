import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUp, cleanups, readyLine, runCli, tempDir, waitFor } from './cli-harness.ts';
import { createPtyPair, openHost, type PtyPair } from './socat.ts';

afterEach(cleanUp);

describe('firmware-sim CLI', () => {
  it('prints help', async () => {
    const top = runCli(['--help']);
    expect(await top.exit).toBe(0);
    expect(top.stdout()).toContain('vehicle');
    const sub = runCli(['vehicle', '--help']);
    expect(await sub.exit).toBe(0);
    for (const text of [
      '--elm <spec>',
      '--nmea <spec>',
      '--epochs',
      '--truth',
      'tcp://HOST:PORT',
      'socat',
      '--adapter-profile <p>',
      'first-pid-only',
    ]) {
      expect(sub.stdout()).toContain(text);
    }
  });

  it('exits 2 with one clear line for a port that does not exist', async () => {
    const run = runCli([
      'vehicle',
      '--id',
      'v1',
      '--elm',
      '/dev/firmware-sim-nope',
      '--nmea',
      'tcp://127.0.0.1:0',
    ]);
    expect(await run.exit).toBe(2);
    expect(run.stderr().trim()).toBe('firmware-sim: no such serial port: /dev/firmware-sim-nope');
  });

  it('exits 2 on invalid options', async () => {
    const run = runCli(['vehicle', '--id', 'v1', '--elm', 'x', '--nmea', 'y', '--tick-ms', 'soon']);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toContain("option '--tick-ms <n>' argument 'soon' is invalid");
    const profile = runCli([
      'vehicle',
      '--id',
      'v1',
      '--elm',
      'x',
      '--nmea',
      'y',
      '--adapter-profile',
      'cheap',
    ]);
    expect(await profile.exit).toBe(2);
    expect(profile.stderr()).toContain(
      "option '--adapter-profile <p>' argument 'cheap' is invalid. expected one of standard, multi-pid-refused, multi-pid-no-data, first-pid-only, reply-count-refused",
    );
  });

  it('runs a vehicle on socat ptys: NMEA matches the truth file, OBD answers, SIGTERM exits 0', async () => {
    const dir = tempDir();
    const elmPair: PtyPair = await createPtyPair(join(dir, 'elm-sim'), join(dir, 'elm-host'));
    cleanups.push(() => elmPair.close());
    const gpsPair: PtyPair = await createPtyPair(join(dir, 'gps-sim'), join(dir, 'gps-host'));
    cleanups.push(() => gpsPair.close());
    // The host sides are open before the simulator starts, so no epoch is missed.
    const elm = await openHost(elmPair.host);
    cleanups.push(() => elm.close());
    const gps = await openHost(gpsPair.host);
    cleanups.push(() => gps.close());
    const truthFile = join(dir, 'truth.jsonl');

    const run = runCli([
      'vehicle',
      '--id',
      'van-9',
      '--elm',
      elmPair.device,
      '--nmea',
      gpsPair.device,
      '--seed',
      '3',
      '--tick-ms',
      '100',
      '--epochs',
      '5',
      '--start-time',
      '2024-05-01T08:00:00.900Z',
      '--truth',
      truthFile,
      '--latency-ms',
      '5',
    ]);
    const ready = await waitFor('ready line', () => readyLine(run));
    expect(ready).toMatchObject({ elm: elmPair.device, nmea: gpsPair.device, seed: 3 });

    const sentences = await waitFor('5 epochs', () => {
      const s = gps.received().split('\r\n').filter(Boolean);
      return s.length >= 10 ? s : undefined;
    });
    expect(sentences).toHaveLength(10);
    const truth = readFileSync(truthFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    expect(truth).toHaveLength(5);
    truth.forEach((rec, i) => {
      const f = sentences[2 * i]!.split(',');
      expect(f[0]).toBe('$GPRMC');
      expect(f[1]).toBe(`08000${i}.00`);
      expect(f[9]).toBe('010524');
      expect(rec.ts).toBe(Date.UTC(2024, 4, 1, 8, 0, i));
      const lat = (Number(f[3]!.slice(0, 2)) + Number(f[3]!.slice(2)) / 60) * (f[4] === 'S' ? -1 : 1);
      const lon = (Number(f[5]!.slice(0, 3)) + Number(f[5]!.slice(3)) / 60) * (f[6] === 'W' ? -1 : 1);
      expect(lat).toBe(rec.lat);
      expect(lon).toBe(rec.lon);
    });

    expect(await elm.ask('ATZ')).toBe('ATZ\r\r\rELM327 v1.5\r\r>');
    expect(await elm.ask('ATE0')).toBe('ATE0\rOK\r\r>');
    expect(await elm.ask('010D1')).toMatch(/^SEARCHING\.\.\.\r41 0D [0-9A-F]{2} \r\r>$/);
    expect(await elm.ask('ATRV')).toMatch(/^1[34]\.\dV\r\r>$/);

    // After the epochs: GPS silent, OBD still there.
    await new Promise((r) => setTimeout(r, 300));
    expect(gps.received().split('\r\n').filter(Boolean)).toHaveLength(10);
    expect(await elm.ask('0100')).toMatch(/^41 00 98 1B 80 03 \r\r>$/);

    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    expect(run.stderr()).toContain('shutting down');
  });

  it('listens on TCP like a WiFi adapter and reports the bound ports', async () => {
    const run = runCli([
      'vehicle',
      '--id',
      'van-10',
      '--elm',
      'tcp://127.0.0.1:0',
      '--nmea',
      'tcp://127.0.0.1:0',
    ]);
    const ready = await waitFor('ready line', () => readyLine(run));
    const elmUrl = new URL(String(ready.elm));
    const nmeaUrl = new URL(String(ready.nmea));
    expect(Number(elmUrl.port)).toBeGreaterThan(0);
    expect(Number(nmeaUrl.port)).toBeGreaterThan(0);

    const socket = connect(Number(elmUrl.port), elmUrl.hostname);
    cleanups.push(() => {
      socket.destroy();
    });
    let reply = '';
    socket.on('data', (b) => {
      reply += b.toString('latin1');
    });
    socket.write('ATI\r');
    await waitFor('ATI reply', () => (reply.endsWith('>') ? reply : undefined));
    expect(reply).toBe('ATI\rELM327 v1.5\r\r>');

    run.child.kill('SIGINT');
    expect(await run.exit).toBe(0);
  });
});
