/**
 * Service 01 (current powertrain data): building requests of up to six PIDs, splitting the
 * answers (SAE J1979 / ISO 15031-5: on ISO 15765-4 one request may carry up to six PIDs; the
 * answer is one message holding `PID data...` for each supported PID, in no guaranteed order),
 * and the reply count that lets the adapter skip its final timeout.
 */
import { isSupportPid, MODE01, type PidValue } from '../pids.ts';
import { hex2 } from './request.ts';

/** ISO 15765-4: a single-frame request has 7 data bytes: the service and six PIDs. */
export const MAX_PIDS_PER_REQUEST = 6;

/** PID -> ECU -> PIDs it supports (from the 00/20/40... bitmaps). */
export type SupportMap = ReadonlyMap<string, ReadonlySet<number>>;

export interface PidReading {
  pid: number;
  ecu: string;
  data: number[];
  value: PidValue;
}

export interface SplitResult {
  /** PID -> its data bytes, in the order found. */
  values: Map<number, number[]>;
  /** Why splitting stopped early (unknown PID, truncated data), or null. */
  error: string | null;
}

/** Data length of a PID, from the table; undefined for PIDs the table does not know. */
export function pidLength(pid: number): number | undefined {
  return MODE01.get(pid)?.bytes;
}

/**
 * `41 0C 1A F8 0D 32 ...` -> {0C: [1A, F8], 0D: [32]}. Each PID is followed by exactly its
 * table length of data; a PID of unknown or variable length can only be read when it is the last.
 */
export function splitMode01(data: readonly number[]): SplitResult {
  const values = new Map<number, number[]>();
  if (data[0] !== 0x41) return { values, error: 'not a service 01 answer' };
  let i = 1;
  while (i < data.length) {
    const pid = data[i]!;
    const length = pidLength(pid);
    if (length === undefined || length === 0) {
      // Unknown layout: everything after it belongs to it (it must have been asked alone).
      if (length === undefined && values.size > 0) {
        return { values, error: `PID ${hex2(pid)} of unknown length inside a multi-PID answer` };
      }
      values.set(pid, data.slice(i + 1));
      return { values, error: null };
    }
    if (i + 1 + length > data.length) {
      return { values, error: `PID ${hex2(pid)} truncated: ${data.length - i - 1} of ${length} bytes` };
    }
    values.set(pid, data.slice(i + 1, i + 1 + length));
    i += 1 + length;
  }
  return { values, error: null };
}

export function mode01Command(pids: readonly number[]): string {
  return `01${pids.map(hex2).join('')}`;
}

/** CAN frames an ISO-TP message of `length` bytes takes: 1 single frame, or first + consecutive. */
export function framesFor(length: number): number {
  return length <= 7 ? 1 : 1 + Math.ceil((length - 6) / 7);
}

/**
 * How many frames answer a request for `pids`, from what each ECU said it supports: each ECU
 * answers one message with the PIDs it knows. Null when it cannot be known (no support map, a
 * PID without fixed length) or does not fit the one hex digit (1...15).
 */
export function expectedReplies(pids: readonly number[], support: SupportMap): number | null {
  let frames = 0;
  for (const supported of support.values()) {
    const mine = pids.filter((p) => supported.has(p) || p === 0x00);
    if (mine.length === 0) continue;
    let length = 1;
    for (const pid of mine) {
      const bytes = isSupportPid(pid) ? 4 : pidLength(pid);
      if (!bytes) return null;
      length += 1 + bytes;
    }
    frames += framesFor(length);
  }
  return frames >= 1 && frames <= 15 ? frames : null;
}

/**
 * Groups PIDs into requests: up to six on CAN, one at a time elsewhere, and alone whenever a
 * PID's length is not fixed (its answer could not be split).
 */
export function batchPids(pids: readonly number[], multiPid: boolean): number[][] {
  if (!multiPid) return pids.map((p) => [p]);
  const batches: number[][] = [];
  let current: number[] = [];
  for (const pid of pids) {
    if (!pidLength(pid)) {
      batches.push([pid]);
      continue;
    }
    current.push(pid);
    if (current.length === MAX_PIDS_PER_REQUEST) {
      batches.push(current);
      current = [];
    }
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Decodes split data; PIDs missing from the table come back as raw hex. */
export function decodePid(pid: number, data: readonly number[]): PidValue {
  const def = MODE01.get(pid);
  return def ? def.decode(data) : data.map(hex2).join('');
}
