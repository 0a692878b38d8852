import { createLogger } from '@fleet/shared/log';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Elm327Emulator } from '../../../firmware-sim/src/elm327/emulator.ts';
import { DiagnosticMemory } from '../../../firmware-sim/src/vehicle/diagnostics.ts';
import { VehicleModel } from '../../../firmware-sim/src/vehicle/model.ts';
import { type DiagnosticReading, ObdPoller } from '../obd/obd-poller.ts';
import type { TroubleCode } from '../obd/services/dtc.ts';
import { AgentDb } from '../store/agent-db.ts';
import type { ByteStream } from '../transport/byte-stream.ts';
import { createMemoryStreamPair } from '../transport/memory.ts';
import { DiagnosticsWatch } from './diagnostics-watch.ts';

const log = createLogger('test');
log.level = 'silent';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function watchOn(db: AgentDb, now = () => 1_700_000_000_000.25) {
  return new DiagnosticsWatch(db.events, db.troubleCodes, now, () => ({ lat: 48.1, lon: 11.5 }), log);
}

function openDb(file = ':memory:') {
  const db = new AgentDb(file);
  cleanups.push(() => db.close());
  return db;
}

const code = (c: string, description = 'x'): TroubleCode => ({
  code: c,
  kind: 'stored',
  ecu: '7E8',
  description,
  generic: true,
});
const codes = (stored: TroubleCode[], pending: TroubleCode[] = []): DiagnosticReading => ({
  kind: 'codes',
  ts: 0,
  stored,
  pending,
  milOn: stored.length > 0,
});

describe('DiagnosticsWatch', () => {
  it('reports each trouble code once while it stays set, and again after it cleared and came back', () => {
    const db = openDb();
    const watch = watchOn(db);
    watch.observe(codes([code('P0171', 'System Too Lean (Bank 1)')]));
    watch.observe(codes([code('P0171', 'System Too Lean (Bank 1)')]));
    watch.observe(codes([code('P0171'), code('P0420')]));
    watch.observe(codes([])); // cleared by a scan tool
    watch.observe(codes([code('P0171')]));
    const dtcs = db.events.listSince(0, 1000).filter((e) => e.type === 'dtc');
    expect(dtcs.map((e) => e.details.code)).toEqual(['P0171', 'P0420', 'P0171']);
    expect(dtcs[0]!.details).toMatchObject({
      description: 'System Too Lean (Bank 1)',
      kind: 'stored',
      milOn: true,
    });
    expect(dtcs[0]).toMatchObject({ lat: 48.1, lon: 11.5, confidence: 1 });
  });

  it('does not report again after a restart what the vehicle still has set (the memory is in SQLite)', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'diag-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'agent.db');
    const first = new AgentDb(file);
    watchOn(first).observe(codes([code('P0133')], [code('P0300')]));
    first.close();
    const second = openDb(file);
    watchOn(second).observe(codes([code('P0133')], [code('P0300'), code('P0301')]));
    const reported = second.events.listSince(0, 1000).filter((e) => e.type === 'dtc');
    expect(reported.map((e) => `${e.details.kind} ${e.details.code}`)).toEqual([
      'stored P0133',
      'pending P0300',
      'pending P0301',
    ]);
  });

  it('reports ignition on/off and a battery check per start: a flat rest and a dead alternator are low', () => {
    const db = openDb();
    const watch = watchOn(db);
    const t = 1_000_000;
    // Healthy start: 12.6 V resting, 14.2 V charging.
    watch.observe({ kind: 'voltage', ts: t, volts: 12.6, engine: 'off' });
    watch.observe({ kind: 'ignition', ts: t + 2000, on: true });
    watch.observe({ kind: 'voltage', ts: t + 3000, volts: 14.2, engine: 'running' });
    watch.observe({ kind: 'ignition', ts: t + 600_000, on: false });
    // Weak start: 11.9 V resting, a read at 9.1 V while cranking, 12.9 V running (not charging).
    watch.observe({ kind: 'voltage', ts: t + 700_000, volts: 11.9, engine: 'off' });
    watch.observe({ kind: 'voltage', ts: t + 702_000, volts: 9.1, engine: 'off' });
    watch.observe({ kind: 'ignition', ts: t + 703_000, on: true });
    watch.observe({ kind: 'voltage', ts: t + 704_000, volts: 12.9, engine: 'running' });
    const events = db.events.listSince(0, 1000);
    expect(events.map((e) => e.type)).toEqual([
      'ignition_on',
      'battery',
      'ignition_off',
      'ignition_on',
      'battery',
    ]);
    const [good, weak] = events.filter((e) => e.type === 'battery');
    expect(good!.details).toMatchObject({ phase: 'start', restingV: 12.6, runningV: 14.2, low: false });
    expect(weak!.details).toMatchObject({
      phase: 'start',
      restingV: 11.9,
      lowestV: 9.1,
      runningV: 12.9,
      low: true,
      reasons: ['resting', 'cranking', 'charging'],
    });
    expect(events[2]!.details).toEqual({ onForS: 598 });
  });

  it('reports a low resting battery once per stop, only after it stayed low (a load dip is not flat)', () => {
    const db = openDb();
    const watch = watchOn(db);
    const off = (ts: number, volts: number) => watch.observe({ kind: 'voltage', ts, volts, engine: 'off' });
    off(0, 11.8); // the dome light for a minute
    off(60_000, 12.5);
    for (let ts = 120_000; ts <= 120_000 + 15 * 60_000; ts += 60_000) off(ts, 11.9);
    expect(db.events.listSince(0, 1000).filter((e) => e.type === 'battery')).toHaveLength(1);
    expect(db.events.listSince(0, 1000)[0]!.details).toMatchObject({
      phase: 'resting',
      restingV: 11.9,
      low: true,
    });
  });
});

describe('ObdPoller diagnostics on the simulated vehicle', () => {
  it('reads a code set mid-drive at once (PID 01 changed), ATRV while running, and the ignition switching off and on', async () => {
    const model = new VehicleModel({ seed: 5, startTimeMs: Date.UTC(2024, 4, 1, 8) });
    for (let i = 0; i < 300 && model.state().speedKmh < 15; i++) model.step();
    const memory = new DiagnosticMemory();
    let device: ByteStream | undefined;
    const emulator = new Elm327Emulator({
      vehicle: model,
      vin: '1SV7CE6F6RX068251',
      diagnostics: memory,
      write: (bytes) => void device?.write(Buffer.from(bytes)).catch(() => {}),
      latencyMs: 1,
      resetDelayMs: 5,
      searchDelayMs: 5,
    });
    const open = async () => {
      const [host, dev] = createMemoryStreamPair();
      device = dev;
      dev.onData((bytes) => emulator.receive(bytes));
      return host;
    };
    const readings: DiagnosticReading[] = [];
    const poller = new ObdPoller(open, log, 0, 50, {
      slowPeriodMs: 20,
      // Hours: only PID 01's change may read the codes after the first read.
      diagnostics: { dtcPeriodMs: 3_600_000, voltagePeriodMs: 50, onReading: (r) => readings.push(r) },
    });
    const running = poller.run();
    cleanups.push(async () => {
      await poller.stop();
      await running;
    });
    await vi.waitFor(() => expect(readings.some((r) => r.kind === 'codes')).toBe(true), { timeout: 5000 });
    expect(readings.find((r) => r.kind === 'ignition')).toMatchObject({ on: true });
    expect(readings.find((r) => r.kind === 'codes')).toMatchObject({ stored: [], pending: [] });

    memory.store('P0171');
    await vi.waitFor(
      () =>
        expect(readings.some((r) => r.kind === 'codes' && r.stored.some((c) => c.code === 'P0171'))).toBe(
          true,
        ),
      { timeout: 5000 },
    );
    const read = readings.findLast((r) => r.kind === 'codes');
    expect(read).toMatchObject({
      milOn: true,
      stored: [{ code: 'P0171', description: 'System Too Lean (Bank 1)', ecu: '7E8' }],
    });
    const running13 = readings.find((r) => r.kind === 'voltage' && r.engine === 'running');
    expect(running13 && running13.kind === 'voltage' && running13.volts).toBeGreaterThan(13.5);

    model.setIgnition(false);
    await vi.waitFor(() => expect(readings.some((r) => r.kind === 'ignition' && !r.on)).toBe(true), {
      timeout: 10_000,
    });
    await vi.waitFor(
      () => expect(readings.some((r) => r.kind === 'voltage' && r.engine === 'off')).toBe(true),
      { timeout: 10_000 },
    );
    const offV = readings.find((r) => r.kind === 'voltage' && r.engine === 'off');
    expect(offV && offV.kind === 'voltage' && offV.volts).toBeLessThan(13);
  }, 30_000);
});
