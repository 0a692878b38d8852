/**
 * Adapters that refuse multi-PID requests or the reply-count digit (issue 14), one firmware-sim
 * adapter profile each, over real ptys (socat): the real `fleet-agent obd read` and `obd info`
 * processes, the daemon's ObdPoller, and the daemon itself (`fleet-agent run` against
 * `firmware-sim vehicle --adapter-profile`, both real processes) must read decoded values from
 * every profile, in the fastest request mode the adapter allows, and say which mode that is.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '@fleet/shared/log';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AdapterProfileName } from '../../firmware-sim/src/elm327/adapter-profiles.ts';
import type { VehicleState } from '../../firmware-sim/src/vehicle/model.ts';
import {
  readyLine,
  runCli,
  cleanUp as stopSimulators,
  waitFor,
} from '../../firmware-sim/test/cli-harness.ts';
import { createPtyPair } from '../../firmware-sim/test/socat.ts';
import { obdInfo } from '../src/cli/obd.ts';
import {
  expectedReadings,
  SimulatedAdapter,
  startPoller,
  waitForModelReadings,
} from './support/simulated-adapter.ts';

const run = promisify(execFile);
const AGENT = join(import.meta.dirname, '../bin/fleet-agent.js');
const log = createLogger('obd-profiles-test');

const cleanups: (() => Promise<void>)[] = [];
// Ten processes to stop after the daemon test, on a loaded machine.
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await stopSimulators();
}, 120_000);

async function simulated(profile: AdapterProfileName) {
  const sim = await SimulatedAdapter.start({ emulator: { profile } });
  cleanups.push(() => sim.close());
  return sim;
}

async function agentCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [AGENT, ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Service 01 data requests of several PIDs (support maps 00/20/... left out), as sent. */
const multiPidRequests = (requests: readonly string[]) =>
  requests.filter((r) => /^01([0-9A-F]{2}){2,6}[1-9A-F]?$/.test(r) && !/^01[02468AC]0/.test(r));
const withDigit = (requests: readonly string[]) =>
  requests.filter((r) => /^01[0-9A-F]+$/.test(r) && r.length % 2 === 1);

const PROFILES: {
  profile: AdapterProfileName;
  multiPid: boolean;
  replyCount: boolean;
  /** How `obd info` explains the finding. */
  evidence: RegExp;
}[] = [
  { profile: 'standard', multiPid: true, replyCount: true, evidence: /^010C0D1: answered 0C 0D$/ },
  {
    profile: 'multi-pid-refused',
    multiPid: false,
    replyCount: true,
    evidence: /^010C0D1: \?; one PID answered$/,
  },
  {
    profile: 'multi-pid-no-data',
    multiPid: false,
    replyCount: true,
    evidence: /^010C0D1: NO DATA; one PID answered$/,
  },
  {
    profile: 'first-pid-only',
    multiPid: false,
    replyCount: true,
    evidence: /^010C0D1: answered 0C only; one PID answered$/,
  },
  { profile: 'reply-count-refused', multiPid: true, replyCount: false, evidence: /^010C0D: answered 0C 0D$/ },
];

describe.each(PROFILES)('adapter profile $profile', ({ profile, multiPid, replyCount, evidence }) => {
  it('fleet-agent obd read (hex and names) returns the decoded values; obd info reports the mode', async () => {
    const sim = await simulated(profile);
    const want = expectedReadings(sim.model.state());
    for (const pids of [
      ['0C', '0D', '2F'],
      ['rpm', 'speed', 'fuelLevel'],
    ]) {
      const before = sim.requests.length;
      const result = await agentCli([
        'obd',
        'read',
        ...pids,
        '--port',
        sim.hostPath,
        '--baud',
        '38400',
        '--json',
      ]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const doc = JSON.parse(result.stdout) as { readings: { pid: string; value: number }[] };
      const value = (pid: string) => doc.readings.find((r) => r.pid === pid)?.value;
      expect(doc.readings.map((r) => r.pid)).toEqual(['0C', '0D', '2F']);
      expect(value('0C')).toBe(want.rpm);
      expect(value('0D')).toBe(want.speedKmh);
      expect(value('2F')).toBeCloseTo(want.fuelLevelPct, 9);
      // The read itself (the last request) went out in the mode found.
      const last = sim.requests.slice(before).at(-1)!;
      expect(last.length % 2 === 1, last).toBe(replyCount);
      expect(last.startsWith(multiPid ? '010C0D2F' : '012F'), last).toBe(true);
    }

    const info = await agentCli(['obd', 'info', '--port', sim.hostPath, '--baud', '38400', '--json']);
    expect(info.code).toBe(0);
    const doc = JSON.parse(info.stdout) as { requestMode: Record<string, unknown> };
    expect(doc.requestMode).toMatchObject({ multiPid, replyCount });
    expect(doc.requestMode.multiPidEvidence).toMatch(evidence);

    // The technician's table, from the same action in this process (one child fewer per profile).
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), log };
    expect(await obdInfo({ port: sim.hostPath, baud: '38400' }, io)).toBe(0);
    const table = lines.join('\n');
    expect(table).toMatch(
      multiPid
        ? /^Multi-PID\s+yes, up to 6 PIDs per request \(/m
        : /^Multi-PID\s+no, one PID per request \(/m,
    );
    expect(table).toMatch(
      replyCount
        ? /^Reply count\s+yes \(010C1: answered\)$/m
        : /^Reply count\s+no \(010C1: \?; 010C: answered\)$/m,
    );
  }, 60_000);

  it("the daemon's poller polls decoded values in the fastest mode the adapter allows", async () => {
    const sim = await simulated(profile);
    const { poller, stop } = startPoller(sim, log);
    cleanups.push(stop);
    await waitForModelReadings(poller, sim, 10_000);
    expect(poller.requestMode).toMatchObject({ multiPid, replyCount });
    // Some poll cycles after the mode was found: they use it, and nothing is refused any more.
    const cycles = poller.stats.cycles;
    // About 2 cycles/s on a loaded machine (the simulator answers in the same process), 20+ unloaded.
    await vi.waitFor(() => expect(poller.stats.cycles).toBeGreaterThan(cycles + 20), { timeout: 20_000 });
    const start = sim.requests.lastIndexOf('ATDPN');
    const polled = sim.requests.slice(start).slice(-20);
    expect(multiPidRequests(polled).length > 0).toBe(multiPid);
    expect(withDigit(polled).length > 0).toBe(replyCount);
    expect(poller.stats.disconnects).toBe(0);
    expect(poller.state).toBe('polling');
  }, 45_000);
});

/** `fleet-agent run` as on a vehicle, until SIGTERM (its OBD state is logged as JSON on stderr). */
function runAgent(args: string[]): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [AGENT, 'run', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });
  return { child, stderr: () => err };
}

type Truth = VehicleState & { epoch: number; ts: number };

/** One vehicle and its agent, both real processes; resolves once three samples carry OBD values. */
async function daemonOn({ profile, multiPid, replyCount }: (typeof PROFILES)[number]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'obd-daemon-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const elm = await createPtyPair(join(dir, 'elm-sim'), join(dir, 'elm-host'));
  const gps = await createPtyPair(join(dir, 'gps-sim'), join(dir, 'gps-host'));
  cleanups.push(() => elm.close());
  cleanups.push(() => gps.close());
  const truthFile = join(dir, 'truth.jsonl');
  const sim = runCli([
    'vehicle',
    ...['--id', 'van-7', '--elm', elm.device, '--nmea', gps.device, '--seed', '7'],
    ...['--adapter-profile', profile, '--truth', truthFile],
  ]);
  expect((await waitFor('firmware-sim ready', () => readyLine(sim), 120_000)).adapterProfile).toBe(profile);

  const db = join(dir, 'agent.db');
  const agent = runAgent([
    ...['--vehicle', 'van-7', '--obd-port', elm.host, '--gps-nmea', gps.host, '--db', db],
    ...['--mqtt-url', 'mqtt://127.0.0.1:1883', '--base-topic', `obd-profiles-${process.pid}`],
  ]);
  type Row = { ts: number; rpm: number | null; speed_kmh: number; fuel_level_pct: number | null };
  const rows = await waitFor(
    'three samples with OBD values',
    () => {
      if (!existsSync(db)) return undefined;
      const store = new Database(db, { readonly: true, fileMustExist: true });
      try {
        const found = store
          .prepare(
            'SELECT ts, rpm, speed_kmh, fuel_level_pct FROM samples WHERE rpm IS NOT NULL ORDER BY seq',
          )
          .all() as Row[];
        return found.length >= 3 ? found : undefined;
      } catch (err) {
        // The agent creates its schema just after the file.
        if ((err as Error).message.includes('no such table')) return undefined;
        throw err;
      } finally {
        store.close();
      }
    },
    150_000,
  );
  // Each value is what the ECU said at that epoch or shortly before: the latest poll joins each
  // GPS fix; rpm is a fast PID (every cycle; a single-PID cycle on a loaded machine can near a second,
  // and five daemons and simulators share 2 cores here), fuel level a slow one (every 5 s).
  const truth = readFileSync(truthFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Truth);
  const before = (epoch: number, seconds: number) =>
    truth.slice(Math.max(0, epoch - seconds), epoch + 1).map(expectedReadings);
  for (const row of rows) {
    const epoch = truth.findIndex((t) => t.ts === row.ts);
    expect(epoch, `${profile}: sample at ${row.ts}`).toBeGreaterThanOrEqual(0);
    expect(
      before(epoch, 5).map((c) => c.rpm),
      profile,
    ).toContain(row.rpm);
    expect(
      before(epoch, 8).map((c) => c.fuelLevelPct),
      profile,
    ).toContainEqual(row.fuel_level_pct);
  }
  const modeLine = agent
    .stderr()
    .split('\n')
    .find((l) => l.includes('"adapter request mode"'));
  expect(modeLine, `${profile}: ${agent.stderr()}`).toBeDefined();
  expect(JSON.parse(modeLine!), profile).toMatchObject({ multiPid, replyCount });
}

describe('the daemon (fleet-agent run) against firmware-sim vehicle --adapter-profile', () => {
  it('records decoded OBD values with the GPS epochs on every profile (all five at once)', async () => {
    await Promise.all(PROFILES.map(daemonOn));
  }, 300_000);
});
