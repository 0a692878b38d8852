/**
 * PID reads per second of one request form against a SimulatedAdapter (firmware-sim's ELM327
 * over a socat pty): one warm-up request, then as many as fit in `runMs`, with the bytes each
 * took on the wire (both directions), for the OBD benchmarks.
 */
import type { SimulatedAdapter } from '../../edge-agent/test/support/simulated-adapter.ts';

export interface PidRate {
  name: string;
  /** The first line sent while counting, e.g. `010C0D11100F053`. */
  example: string;
  requests: number;
  pids: number;
  seconds: number;
  bytesPerRequest: number;
}

/** `once(i)` makes the i-th request and returns how many PIDs it read. */
export async function measurePidRate(
  sim: SimulatedAdapter,
  name: string,
  runMs: number,
  once: (i: number) => Promise<number>,
): Promise<PidRate> {
  await once(0);
  const startRequests = sim.requests.length;
  const startBytes = sim.bytesFromHost + sim.bytesToHost;
  const t0 = performance.now();
  let requests = 0;
  let pids = 0;
  while (performance.now() - t0 < runMs) {
    pids += await once(requests);
    requests++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const bytes = sim.bytesFromHost + sim.bytesToHost - startBytes;
  return {
    name,
    example: sim.requests[startRequests] ?? '',
    requests,
    pids,
    seconds,
    bytesPerRequest: bytes / requests,
  };
}
