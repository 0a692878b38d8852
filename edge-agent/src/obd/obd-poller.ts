import type { Logger } from '@fleet/shared/log';
import { isAgentError } from '../errors.ts';
import type { ByteStream } from '../transport/byte-stream.ts';
import { Elm327Adapter } from './elm327/adapter.ts';
import { type ObdReadingName, PIDS, parseMode01Line } from './pids.ts';

export type ObdReadings = Record<ObdReadingName, number | null>;
export type ObdLinkState = 'connecting' | 'polling' | 'no-vehicle' | 'disconnected';

/**
 * Keeps the latest reading of each PID: opens the adapter, initialises it, polls in a loop, and
 * starts over by itself after an unplug or a failure (a normal state on a vehicle, not a crash).
 */
export class ObdPoller {
  readonly latest: ObdReadings = { coolantC: null, rpm: null, speedKmh: null, fuelLevelPct: null };
  state: ObdLinkState = 'connecting';
  private stopped = false;
  private stream: ByteStream | undefined;

  constructor(
    private readonly open: () => Promise<ByteStream>,
    private readonly log: Logger,
    /** [0...60000] ms between poll cycles, default 0 (as fast as the adapter answers). */
    private readonly cycleDelayMs = 0,
    /** [100...60000] ms before reconnecting after a failure, default 2000. */
    private readonly retryDelayMs = 2000,
  ) {}

  async run(): Promise<void> {
    while (!this.stopped) {
      try {
        this.state = 'connecting';
        this.stream = await this.open();
        let closed = false;
        this.stream.onClose(() => {
          closed = true;
        });
        const adapter = new Elm327Adapter(this.stream, this.log);
        await this.initialise(adapter);
        this.log.info({ port: this.stream.name }, 'OBD adapter initialised; polling');
        this.state = 'polling';
        while (!this.stopped && !closed) {
          await this.pollOnce(adapter);
          if (this.cycleDelayMs > 0) await sleep(this.cycleDelayMs);
        }
      } catch (err) {
        if (this.stopped) break;
        this.state = 'disconnected';
        this.log.warn({ err: (err as Error).message }, 'OBD link down; retrying');
      } finally {
        await this.stream?.close().catch(() => {});
        this.stream = undefined;
      }
      if (!this.stopped) await sleep(this.retryDelayMs);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.stream?.close().catch(() => {});
  }

  private async initialise(adapter: Elm327Adapter) {
    // Reset takes about 0.5-1 s on real chips. A freshly powered adapter may miss the first
    // one, so ask a few times before calling the link down.
    for (let attempt = 1; ; attempt++) {
      try {
        await adapter.send('ATZ', 1500);
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
    for (const cmd of ['ATE0', 'ATL0', 'ATS0', 'ATH0', 'ATSP0']) await adapter.send(cmd);
    // The first request after ATSP0 runs the protocol search (`SEARCHING...`): allow it time.
    await adapter.send('0100', 10_000);
  }

  private async pollOnce(adapter: Elm327Adapter) {
    let answered = 0;
    for (const [name, def] of Object.entries(PIDS) as [ObdReadingName, (typeof PIDS)[ObdReadingName]][]) {
      const hex = def.pid.toString(16).toUpperCase().padStart(2, '0');
      try {
        const lines = await adapter.send(`01${hex}`);
        const data = lines.map((l) => parseMode01Line(l, def.pid)).find((d) => d !== null);
        this.latest[name] = data && data.length >= def.bytes ? def.decode(data) : null;
        if (data) answered++;
      } catch (err) {
        if (!isAgentError(err)) throw err;
        this.latest[name] = null;
        if (err.code >= 200 && err.code < 300) throw err; // the port itself failed
      }
    }
    // Engine off: the ECU is silent while the adapter still answers.
    this.state = answered > 0 ? 'polling' : 'no-vehicle';
    if (answered === 0) await sleep(this.retryDelayMs);
  }
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}
