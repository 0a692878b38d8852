/**
 * `fleet-agent obd info|read|dtc` against firmware-sim's ELM327 emulator over real ptys, through
 * the action functions and through commander (registerObdCommands on a fresh program).
 */
import { join } from 'node:path';
import { createLogger } from '@fleet/shared/log';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { createPtyPair } from '../../firmware-sim/test/socat.ts';
import { type ObdCliIo, obdDtc, obdInfo, obdRead, registerObdCommands } from '../src/cli/obd.ts';
import { openSerial } from '../src/transport/serial.ts';
import { SimulatedAdapter } from './support/simulated-adapter.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  process.exitCode = undefined;
});

async function simulated(options: Parameters<typeof SimulatedAdapter.start>[0] = {}) {
  const sim = await SimulatedAdapter.start(options);
  cleanups.push(() => sim.close());
  return sim;
}

function capture(extra: Partial<ObdCliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: ObdCliIo = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    log: createLogger('obd-cli-test'),
    ...extra,
  };
  return { io, out, err };
}

const byte = (v: number) => Math.min(255, Math.max(0, Math.round(v)));

describe('obd info', () => {
  it('--json: adapter, voltage, protocol, VIN, supported PIDs per ECU in one document', async () => {
    const sim = await simulated();
    const { io, out, err } = capture();
    expect(await obdInfo({ port: sim.hostPath, baud: '38400', json: true }, io)).toBe(0);
    expect(err).toEqual([]);
    expect(out).toHaveLength(1);
    const doc = JSON.parse(out[0]!);
    expect(doc).toMatchObject({
      baudRate: 38400,
      adapter: { description: 'ELM327 v1.5', chip: 'ELM327', version: '1.5', replyCount: true },
      protocol: { number: 6, name: 'ISO 15765-4 CAN (11 bit ID, 500 kbaud)', auto: true },
      vin: { vin: '1SV7CE6F6RX068251', valid: true, checkDigitValid: true, ecu: '7E8' },
      fuelType: { code: 1, name: 'gasoline' },
      fuelRateSource: 'fuel-rate-pid',
    });
    expect(doc.voltage).toBeGreaterThan(11);
    expect(doc.supportedPids['7E8']).toEqual(expect.arrayContaining(['0C', '0D', '2F', '5E', 'A6']));
  });

  it('prints a human table by default', async () => {
    const sim = await simulated();
    const { io, out } = capture();
    expect(await obdInfo({ port: sim.hostPath }, io)).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/^Adapter\s+ELM327 v1\.5 at 38400 baud$/m);
    expect(text).toMatch(/^VIN\s+1SV7CE6F6RX068251 \(check digit ok\)$/m);
    expect(text).toMatch(/^Protocol\s+ISO 15765-4 CAN \(11 bit ID, 500 kbaud\) \(auto\)$/m);
    expect(text).toMatch(/^ {2}ECU 7E8: \d+ PIDs: 01 04 05 0C 0D/m);
  });
});

describe('obd read', () => {
  it('reads PIDs by hex and by name, and says which the vehicle does not support', async () => {
    const sim = await simulated();
    const { io, out } = capture();
    expect(await obdRead(['0C', 'speed', 'fuelLevel', '010A'], { port: sim.hostPath, json: true }, io)).toBe(
      0,
    );
    const doc = JSON.parse(out[0]!);
    const s = sim.model.state();
    const value = (pid: string) => doc.readings.find((r: { pid: string }) => r.pid === pid)?.value;
    expect(value('0C')).toBe(Math.round(s.rpm * 4) / 4);
    expect(value('0D')).toBe(byte(s.speedKmh));
    expect(value('2F')).toBeCloseTo((100 * byte((s.fuelLevelPct * 255) / 100)) / 255, 9);
    expect(doc.unsupported).toEqual(['0A']);
    expect(doc.readings[0]).toMatchObject({ key: 'engineRpm', unit: 'rpm', ecu: '7E8' });
  });

  it('prints a table', async () => {
    const sim = await simulated();
    const { io, out } = capture();
    expect(await obdRead(['rpm', '0A'], { port: sim.hostPath }, io)).toBe(0);
    expect(out[0]).toMatch(/^PID\s+Name\s+Value\s+ECU$/);
    expect(out[1]).toMatch(/^0C\s+Engine speed\s+[\d.]+ rpm\s+7E8$/);
    expect(out[2]).toMatch(/^0A\s+Fuel pressure \(gauge\)\s+not supported by the vehicle$/);
  });

  it('--watch --json prints one document per line until stopped', async () => {
    const sim = await simulated();
    const controller = new AbortController();
    const lines: string[] = [];
    const { io } = capture({
      signal: controller.signal,
      out: (l) => {
        lines.push(l);
        if (lines.length === 3) controller.abort();
      },
    });
    expect(
      await obdRead(['rpm', 'speed'], { port: sim.hostPath, json: true, watch: true, interval: '20' }, io),
    ).toBe(0);
    expect(lines).toHaveLength(3);
    for (const l of lines)
      expect(JSON.parse(l).readings.map((r: { pid: string }) => r.pid)).toEqual(['0C', '0D']);
  });

  it('refuses an unknown PID before touching the port', async () => {
    const { io, err } = capture();
    expect(await obdRead(['warp'], { port: '/dev/none' }, io)).toBe(2);
    expect(err).toEqual([expect.stringMatching(/unknown PID "warp".*\[E321\]$/)]);
  });
});

describe('obd dtc', () => {
  it('lists stored codes with descriptions, refuses to clear without --yes, clears with it', async () => {
    const sim = await simulated({ dtcs: ['P0133', 'P0420', 'P1171'] });
    const first = capture();
    expect(await obdDtc({ port: sim.hostPath }, first.io)).toBe(0);
    expect(first.out.slice(0, 4)).toEqual([
      expect.stringMatching(/^Code\s+Kind\s+ECU\s+Description$/),
      expect.stringMatching(/^P0133\s+stored\s+7E8\s+O2 Sensor Circuit Slow Response \(Bank 1 Sensor 1\)$/),
      expect.stringMatching(/^P0420\s+stored\s+7E8\s+Catalyst System Efficiency Below Threshold \(Bank 1\)$/),
      expect.stringMatching(/^P1171\s+stored\s+7E8\s+manufacturer-specific or unknown$/),
    ]);
    // Pending (07) and permanent (0A) codes follow, if the ECU keeps any.
    for (const line of first.out.slice(4)) expect(line).toMatch(/^P\d{4}\s+(pending|permanent)\s+7E8\s+/);

    const refused = capture();
    expect(await obdDtc({ port: sim.hostPath, clear: true }, refused.io)).toBe(2);
    expect(refused.err).toEqual([expect.stringMatching(/without --yes: .*readiness monitor.*\[E320\]$/)]);
    expect(sim.requests).not.toContain('04');

    const cleared = capture();
    expect(await obdDtc({ port: sim.hostPath, clear: true, yes: true, json: true }, cleared.io)).toBe(0);
    expect(JSON.parse(cleared.out[0]!)).toMatchObject({ cleared: true, ecus: ['7E8'], monitorsReset: true });
    expect(sim.requests).toContain('04');

    const after = capture();
    expect(await obdDtc({ port: sim.hostPath, json: true }, after.io)).toBe(0);
    const doc = JSON.parse(after.out[0]!) as { codes: { code: string; kind: string }[]; services: object };
    expect(doc.services).toEqual({ stored: true, pending: true, permanent: true });
    // Stored and pending codes are gone; permanent ones survive a clear until their monitor passes
    // (J1979 service 0A), so only they may remain.
    expect(doc.codes.filter((c) => c.kind !== 'permanent')).toEqual([]);
  });
});

describe('obd: one-line errors, exit code 2', () => {
  it('nonexistent port', async () => {
    const { io, out, err } = capture();
    expect(await obdInfo({ port: '/tmp/no-such-elm327-port' }, io)).toBe(2);
    expect(out).toEqual([]);
    expect(err).toEqual([
      'fleet-agent obd: serial port /tmp/no-such-elm327-port does not exist (is the adapter plugged in?) [E200]',
    ]);
  });

  it('busy port (the agent daemon holds it)', async () => {
    const sim = await simulated();
    const holder = await openSerial(sim.hostPath);
    cleanups.push(() => holder.close());
    const { io, err } = capture();
    expect(await obdRead(['rpm'], { port: sim.hostPath }, io)).toBe(2);
    expect(err).toEqual([`fleet-agent obd: serial port ${sim.hostPath} is in use by another program [E201]`]);
  });

  it('engine off / no vehicle', async () => {
    const sim = await simulated();
    sim.model.setIgnition(false);
    const { io, err } = capture();
    expect(await obdDtc({ port: sim.hostPath, baud: '38400' }, io)).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(
      /^fleet-agent obd: no vehicle answers on any protocol: ignition off or engine not running\? \(adapter supply \d+\.\d V\) \[E319\]$/,
    );
  });

  it('adapter not answering (nothing behind the port), after trying every baud rate', async () => {
    const sim = await simulated();
    // A pty pair with nobody on the other end.
    const pair = await createPtyPair(join(sim.dir, 'mute-sim'), join(sim.dir, 'mute-host'));
    cleanups.push(() => pair.close());
    const { io, err } = capture();
    expect(await obdInfo({ port: pair.host }, io)).toBe(2);
    expect(err).toEqual([
      `fleet-agent obd: no ELM327 adapter answers on ${pair.host} (tried 38400, 9600, 230400, 115200, 57600, 19200 baud): is it powered and is this its port? [E316]`,
    ]);
  });
});

describe('registerObdCommands (commander 14)', () => {
  it('wires obd info/read/dtc with their options and sets the exit code', async () => {
    const sim = await simulated();
    const { io, out, err } = capture();
    const program = new Command('fleet-agent').exitOverride();
    registerObdCommands(program, io);
    await program.parseAsync(['obd', 'read', '0D', 'rpm', '--port', sim.hostPath, '--json'], {
      from: 'user',
    });
    expect(process.exitCode).toBeUndefined();
    expect(JSON.parse(out[0]!).readings.map((r: { pid: string }) => r.pid)).toEqual(['0D', '0C']);

    await program.parseAsync(['obd', 'dtc', '--port', sim.hostPath, '--clear'], { from: 'user' });
    expect(process.exitCode).toBe(2);
    expect(err[0]).toMatch(/\[E320\]$/);

    const help = program.commands.find((c) => c.name() === 'obd')!;
    expect(help.commands.map((c) => c.name())).toEqual(['info', 'read', 'dtc']);
    await expect(program.parseAsync(['obd', 'info'], { from: 'user' })).rejects.toThrow(/--port/);
  });
});
