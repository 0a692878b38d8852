import { spawnSync } from 'node:child_process';
import { createPtyPair, type PtyPair } from '../../firmware-sim/src/transport/pty-pair.ts';

export function hasSocat(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** `device` is the end the simulated adapter opens; `host` the one the agent opens, like /dev/ttyUSB0. */
export type VirtualSerialPair = PtyPair;

/** A linked pair of pseudo-terminals from socat: what a USB serial adapter looks like to the agent. */
export const createVirtualSerialPair = (device: string, host: string): Promise<VirtualSerialPair> =>
  createPtyPair(device, host);
