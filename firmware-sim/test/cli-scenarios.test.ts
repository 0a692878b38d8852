import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUp, cleanups, readyLine, runCli, tempDir, waitFor } from './cli-harness.ts';

afterEach(cleanUp);

describe('firmware-sim CLI: scenarios, labels, logs', () => {
  it('lists the built-in scenarios and prints one as JSON', async () => {
    const list = runCli(['scenarios']);
    expect(await list.exit).toBe(0);
    for (const name of ['fuel-theft', 'slow-leak', 'refuel', 'mixed', 'empty-tank'])
      expect(list.stdout()).toContain(name);
    const show = runCli(['scenarios', '--show', 'fuel-theft']);
    expect(await show.exit).toBe(0);
    expect(JSON.parse(show.stdout())).toMatchObject({ name: 'fuel-theft', events: [{ type: 'fuel_theft' }] });
  });

  it('writes a labelled CSV log with the log command', async () => {
    const dir = tempDir();
    const out = join(dir, 'day.csv');
    const labels = join(dir, 'day.jsonl');
    const run = runCli([
      'log',
      '--scenario',
      'fuel-theft',
      '--seed',
      '4',
      '--hours',
      '2',
      '--out',
      out,
      '--labels',
      labels,
      '--columns',
      'all',
    ]);
    expect(await run.exit).toBe(0);
    const summary = JSON.parse(run.stdout()) as Record<string, number>;
    expect(summary).toMatchObject({ rows: 7201, simulatedHours: 2 });
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(
      'ts,speed_kmh,rpm,fuel_level_pct,fuel_rate_lph,maf_gps,lat,lon,ignition,coolant_c,odometer_km,accel_x_g,accel_y_g',
    );
    expect(lines).toHaveLength(7202);
    expect(lines[1]).toMatch(/^2024-05-01T06:00:00\.000Z,/);
    const jsonl = readFileSync(labels, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(jsonl[0]).toMatchObject({ type: 'meta', scenario: 'fuel-theft', seed: 4 });
    expect(jsonl.some((l) => l.type === 'fuel_theft')).toBe(true);

    const bad = runCli(['log', '--hours', '1', '--out', out, '--columns', 'colour']);
    expect(await bad.exit).toBe(2);
    expect(bad.stderr()).toContain('unknown column "colour"');
  });

  it('runs a K-line vehicle with a scenario file: labels, DTCs, and an unplugged adapter closing its port', async () => {
    const dir = tempDir();
    const scenarioFile = join(dir, 'unplug.json');
    writeFileSync(
      scenarioFile,
      JSON.stringify({ name: 'pull-it-out', events: [{ type: 'unplug', at: 10, durationS: 10 }] }),
    );
    const truthFile = join(dir, 'truth.jsonl');
    const labelsFile = join(dir, 'labels.jsonl');
    const run = runCli([
      'vehicle',
      '--id',
      'van-11',
      '--elm',
      'tcp://127.0.0.1:0',
      '--nmea',
      'tcp://127.0.0.1:0',
      '--tick-ms',
      '100',
      '--epochs',
      '40',
      '--scenario',
      scenarioFile,
      '--labels',
      labelsFile,
      '--truth',
      truthFile,
      '--protocol',
      'kwp',
      '--dtc',
      'P0420',
      '--latency-ms',
      '2',
    ]);
    const ready = await waitFor('ready line', () => readyLine(run));
    expect(ready).toMatchObject({ scenario: 'pull-it-out', protocol: 'kwp', adapter: 'elm327' });
    const elmUrl = new URL(String(ready.elm));
    // The GPS clock starts when its first TCP client connects: be that client.
    const nmeaUrl = new URL(String(ready.nmea));
    const gpsClient = connect(Number(nmeaUrl.port), nmeaUrl.hostname);
    gpsClient.on('data', () => {});
    cleanups.push(() => {
      gpsClient.destroy();
    });

    const ask = async (cmds: string[]): Promise<string[]> => {
      const socket = connect(Number(elmUrl.port), elmUrl.hostname);
      cleanups.push(() => {
        socket.destroy();
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('error', reject);
      });
      let reply = '';
      socket.on('data', (b) => {
        reply += b.toString('latin1');
      });
      const answers: string[] = [];
      for (const cmd of cmds) {
        reply = '';
        socket.write(`${cmd}\r`);
        await waitFor(`${cmd} reply`, () => (reply.endsWith('>') ? reply : undefined), 8000);
        answers.push(reply);
      }
      socket.destroy();
      return answers;
    };
    const truth = (): Record<string, unknown>[] =>
      readFileSync(truthFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));

    const [, , search, dtcs] = await ask(['ATE0', 'ATH1', '0100', '03']);
    expect(search).toMatch(/^SEARCHING\.\.\.\r8[0-9A-F] F1 10 41 00 /);
    expect(dtcs).toMatch(/^87 F1 10 43 04 20 00 00 00 00 [0-9A-F]{2} \r\r>$/);

    // Pulled out: the port refuses connections until the scenario puts the adapter back.
    await waitFor(
      'unplugged',
      () => (truth().some((r) => r.adapterPlugged === false) ? true : undefined),
      15_000,
    );
    await expect(ask(['ATI'])).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await waitFor(
      'plugged again',
      () => (truth().at(-1)?.adapterPlugged === true && truth().length > 20 ? true : undefined),
      15_000,
    );
    // Back in the socket, it boots (banner after ~0.5 s, printed to nobody) and answers again.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await ask(['ATI']))[0]).toBe('ATI\rELM327 v1.5\r\r>');

    await waitFor('epochs done', () => (truth().length >= 40 ? true : undefined), 20_000);
    await waitFor('labels', () => (readFileSync(labelsFile, 'utf8').includes('"unplug"') ? true : undefined));
    const labels = readFileSync(labelsFile, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(labels[0]).toMatchObject({ type: 'meta', vehicleId: 'van-11', protocol: 'kwp' });
    const unplug = labels.find((l) => l.type === 'unplug');
    const t0 = truth()[0]!.ts as number;
    expect([unplug.start - t0, unplug.end - t0]).toEqual([10_000, 20_000]);

    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
  });
});
