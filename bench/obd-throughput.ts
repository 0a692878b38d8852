/**
 * PID reads per second against firmware-sim's ELM327 emulator over a real pty (socat), with the
 * emulator's realistic clone timing (30 ms adapter + ECU turnaround per request; adaptive timing
 * ATAT1 waits 2 x that for more ECUs unless the request carries the reply count), for:
 *
 *   1. one PID per request, no reply count         010C
 *   2. one PID per request, reply count            010C1
 *   3. six PIDs per request, reply count           010C0D11100F053
 *
 * Each is printed next to what the serial link itself allows at 38400 baud (8N1: 10 bits a byte,
 * 3840 bytes/s), from the bytes actually exchanged per request (command + CR, answer lines,
 * prompt), and the ratio. The pty carries bytes at once, so the measured rate is bounded by the
 * adapter's timing, the theoretical one by the wire.
 *
 *   node --import tsx bench/obd-throughput.ts        (about 30 s)
 */

import { ObdSession } from '../edge-agent/src/obd/obd-session.ts';
import { openSerial } from '../edge-agent/src/transport/serial.ts';
import { SimulatedAdapter } from '../edge-agent/test/support/simulated-adapter.ts';
import { createLogger } from '../shared/src/log.ts';
import { measurePidRate, type PidRate } from './support/pid-rate.ts';

const LATENCY_MS = 30;
const RUN_MS = 7000;
const BAUD = 38_400;
const BYTES_PER_SECOND = BAUD / 10;
const FAST = [0x0c, 0x0d, 0x11, 0x10, 0x0f, 0x05];

const log = createLogger('bench');
log.level = 'warn';

async function main() {
  const sim = await SimulatedAdapter.start({ latencyMs: LATENCY_MS, resetDelayMs: 500, searchDelayMs: 300 });
  const session = await ObdSession.open({ open: (baud) => openSerial(sim.hostPath, baud), log });
  try {
    await session.connectVehicle();
    await session.discoverSupportedPids();
    const results: PidRate[] = [];

    results.push(
      await measurePidRate(sim, '1 PID/request, no reply count', RUN_MS, async (i) => {
        const pid = FAST[i % FAST.length]!;
        const messages = await session.request(`01${pid.toString(16).toUpperCase().padStart(2, '0')}`);
        return messages.length > 0 ? 1 : 0;
      }),
    );
    results.push(
      await measurePidRate(sim, '1 PID/request, reply count', RUN_MS, async (i) => {
        const pid = FAST[i % FAST.length]!;
        const messages = await session.request(`01${pid.toString(16).toUpperCase().padStart(2, '0')}`, {
          expectedReplies: 1,
        });
        return messages.length > 0 ? 1 : 0;
      }),
    );
    results.push(
      await measurePidRate(
        sim,
        '6 PIDs/request, reply count',
        RUN_MS,
        async () => (await session.readPids(FAST)).length,
      ),
    );

    const rows = results.map((r) => {
      const perSecond = r.pids / r.seconds;
      const pidsPerRequest = r.pids / r.requests;
      const theoretical = (BYTES_PER_SECOND / r.bytesPerRequest) * pidsPerRequest;
      return {
        mode: r.name,
        request: r.example,
        'PIDs/s': perSecond.toFixed(1),
        'bytes/request': r.bytesPerRequest.toFixed(1),
        '38400 baud limit PIDs/s': theoretical.toFixed(1),
        ratio: `${((100 * perSecond) / theoretical).toFixed(0)} %`,
      };
    });
    console.log(
      `ELM327 emulator (firmware-sim), ${LATENCY_MS} ms latency, adaptive timing ATAT1, headers on, spaces off, over a pty; ${RUN_MS / 1000} s per mode`,
    );
    console.table(rows);
    const base = results[0]!.pids / results[0]!.seconds;
    console.log(
      `speed-up vs 1 PID without reply count: reply count x${(results[1]!.pids / results[1]!.seconds / base).toFixed(1)}, ` +
        `6 PIDs + reply count x${(results[2]!.pids / results[2]!.seconds / base).toFixed(1)}`,
    );
  } finally {
    await session.close();
    await sim.close();
  }
}

await main();
