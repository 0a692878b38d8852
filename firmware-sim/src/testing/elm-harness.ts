import { Elm327Emulator, type Elm327Options } from '../elm327/emulator.ts';
import type { VehicleState } from '../vehicle/model.ts';
import { fixedState } from './fixtures.ts';

export const TEST_VIN = '1SV7CE6F6RX068251';

/**
 * An emulator answering synchronously (all delays 0) over a captured byte sink, for unit tests:
 * `send` returns everything the chip wrote for one command line.
 */
export function elmHarness(options: Partial<Elm327Options> = {}, initial: VehicleState = fixedState()) {
  let state = initial;
  let out = '';
  const emu = new Elm327Emulator({
    vehicle: { state: () => state },
    vin: TEST_VIN,
    write: (bytes) => {
      out += Buffer.from(bytes).toString('latin1');
    },
    latencyMs: 0,
    resetDelayMs: 0,
    searchDelayMs: 0,
    ...options,
  });
  return {
    emu,
    setState(next: Partial<VehicleState>) {
      state = { ...state, ...next };
    },
    send(cmd: string): string {
      out = '';
      emu.receive(`${cmd}\r`);
      const o = out;
      out = '';
      return o;
    },
    take(): string {
      const o = out;
      out = '';
      return o;
    },
  };
}

/** Reply lines without the trailing empty line and prompt. */
export function replyLines(reply: string): string[] {
  if (!reply.endsWith('\r\r>')) throw new Error(`not a complete reply: ${JSON.stringify(reply)}`);
  return reply.slice(0, -3).split('\r');
}
