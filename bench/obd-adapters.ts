/**
 * PID reads per second on each firmware-sim adapter profile (issue 14: clones that refuse
 * multi-PID requests or the reply-count digit), each over its own socat pty with the emulator's
 * clone timing (30 ms adapter + ECU turnaround, adaptive timing ATAT1), in the request mode the
 * agent finds (ObdSession.detectRequestMode), polling six fast PIDs (0C 0D 11 10 0F 05) through
 * ObdSession.readPids as the daemon does.
 *
 * The reference, measured in the same run: the default (standard) adapter asked one PID per
 * request without the reply count, what python-OBD does on every adapter. The ratio says what the
 * discovery keeps of the speed-ups on each kind of clone: a profile that refuses multi-PID still
 * gains the reply count (x2-3), one that refuses the digit still gains multi-PID requests.
 *
 *   pnpm exec tsx bench/obd-adapters.ts [--json]       (about 45 s)
 */

import { ObdSession, type ObdSessionOptions } from '../edge-agent/src/obd/obd-session.ts';
import type { RequestMode } from '../edge-agent/src/obd/services/request-mode.ts';
import { openSerial } from '../edge-agent/src/transport/serial.ts';
import { SimulatedAdapter } from '../edge-agent/test/support/simulated-adapter.ts';
import { ADAPTER_PROFILES, type AdapterProfileName } from '../firmware-sim/src/elm327/adapter-profiles.ts';
import { createLogger } from '../shared/src/log.ts';
import { measurePidRate, type PidRate } from './support/pid-rate.ts';

const LATENCY_MS = 30;
const RUN_MS = 6000;
const FAST = [0x0c, 0x0d, 0x11, 0x10, 0x0f, 0x05];

const log = createLogger('bench');
log.level = 'warn';

interface Row extends PidRate {
  profile: AdapterProfileName;
  mode: RequestMode;
  /** Fallbacks while polling: 0 when the probe at connect found the mode. */
  fallbacks: number;
}

/** One adapter, one session: find the mode (or take the forced one), then poll FAST. */
async function measureProfile(
  profile: AdapterProfileName,
  name: string,
  session: Partial<Pick<ObdSessionOptions, 'multiPid' | 'replyCount'>> = {},
): Promise<Row> {
  const sim = await SimulatedAdapter.start({
    latencyMs: LATENCY_MS,
    resetDelayMs: 500,
    searchDelayMs: 300,
    emulator: { profile },
  });
  const obd = await ObdSession.open({ open: (baud) => openSerial(sim.hostPath, baud), log, ...session });
  try {
    await obd.connectVehicle();
    await obd.discoverSupportedPids();
    const mode = await obd.detectRequestMode();
    const found = obd.stats.requestModeFallbacks;
    const rate = await measurePidRate(sim, name, RUN_MS, async () => (await obd.readPids(FAST)).length);
    // Anything the probe missed would show as a fallback while polling.
    return { ...rate, profile, mode, fallbacks: obd.stats.requestModeFallbacks - found };
  } finally {
    await obd.close();
    await sim.close();
  }
}

async function main() {
  const json = process.argv.includes('--json');
  const reference = await measureProfile('standard', 'reference: 1 PID/request, no reply count', {
    multiPid: 'off',
    replyCount: 'off',
  });
  const rows: Row[] = [];
  for (const profile of ADAPTER_PROFILES) rows.push(await measureProfile(profile, profile));

  const perSecond = (r: PidRate) => r.pids / r.seconds;
  const base = perSecond(reference);
  const table = [reference, ...rows].map((r) => ({
    adapter: r.name,
    'multi-PID': r.mode.multiPid ? 'yes' : 'no',
    'reply count': r.mode.replyCount ? 'yes' : 'no',
    request: r.example,
    'PIDs/s': perSecond(r).toFixed(1),
    'x single-PID rate': (perSecond(r) / base).toFixed(2),
    'bytes/request': r.bytesPerRequest.toFixed(1),
  }));
  if (json) {
    console.log(
      JSON.stringify({
        latencyMs: LATENCY_MS,
        runMs: RUN_MS,
        pids: FAST.length,
        referencePidsPerSecond: base,
        profiles: rows.map((r) => ({
          profile: r.profile,
          requestMode: r.mode,
          pidsPerSecond: perSecond(r),
          ratio: perSecond(r) / base,
          example: r.example,
          fallbacksWhilePolling: r.fallbacks,
        })),
      }),
    );
    return;
  }
  console.log(
    `ELM327 emulator (firmware-sim) per adapter profile, ${LATENCY_MS} ms latency, ATAT1, headers on, ` +
      `spaces off, each over its own pty; ${FAST.length} PIDs per poll, ${RUN_MS / 1000} s each`,
  );
  console.table(table);
  for (const r of rows)
    console.log(
      `${r.profile}: multi-PID ${r.mode.multiPidEvidence}; reply count ${r.mode.replyCountEvidence}`,
    );
}

await main();
