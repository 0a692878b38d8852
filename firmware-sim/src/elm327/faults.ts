import { SimError, SimErrorCode } from '../errors.ts';
import { Random } from '../vehicle/random.ts';

/**
 * Every error answer of an ELM327 an agent has to survive (ELM327 data sheet, "Messages and
 * Error Messages"), and how the emulator produces each when injected:
 *
 *   NO DATA              nothing answered within the timeout
 *   ?                    the adapter did not understand the line
 *   CAN ERROR            CAN bus fault: no acknowledgement, wrong bit rate, bus off
 *   BUS INIT: ...ERROR   K-line initialisation failed
 *   UNABLE TO CONNECT    the automatic search found no protocol
 *   STOPPED              the request was abandoned (normally: a byte from the host interrupted it)
 *   BUFFER FULL          the adapter's 256-byte buffer overflowed: the first line, then this
 *   <DATA ERROR          checksum/format error: the data line with "<DATA ERROR" appended
 *   <RX ERROR            CAN reception error: a truncated line with "<RX ERROR" appended
 *   FB ERROR             feedback error: the adapter's output does not read back (wiring)
 *   SEARCHING...         a new protocol search before the answer (the data follows)
 *
 * Garbage bytes are what a power glitch prints before the chip's start-up banner: see
 * `Elm327Emulator.powerGlitch()`.
 */
export const ELM_ERROR_ANSWERS = [
  'NO DATA',
  '?',
  'CAN ERROR',
  'BUS INIT: ...ERROR',
  'UNABLE TO CONNECT',
  'STOPPED',
  'BUFFER FULL',
  '<DATA ERROR',
  '<RX ERROR',
  'FB ERROR',
  'SEARCHING...',
] as const;

export type ElmErrorAnswer = (typeof ELM_ERROR_ANSWERS)[number];

export function isElmErrorAnswer(text: string): text is ElmErrorAnswer {
  return (ELM_ERROR_ANSWERS as readonly string[]).includes(text);
}

export function elmErrorAnswer(text: string): ElmErrorAnswer {
  if (!isElmErrorAnswer(text)) {
    throw new SimError(
      SimErrorCode.InvalidScenario,
      `unknown ELM327 error answer "${text}" (known: ${ELM_ERROR_ANSWERS.join(', ')})`,
    );
  }
  return text;
}

/** Answers that replace the ECU's data altogether (the others decorate or precede it). */
export const REPLACING_ANSWERS: ReadonlySet<ElmErrorAnswer> = new Set([
  'NO DATA',
  '?',
  'CAN ERROR',
  'BUS INIT: ...ERROR',
  'UNABLE TO CONNECT',
  'STOPPED',
  'FB ERROR',
]);

export interface FaultRates {
  /** Probability per OBD request of each answer, [0...1]; their sum must stay <= 1. */
  rates: Partial<Record<ElmErrorAnswer, number>>;
  /** Seed of the draws, so a run replays the same faults for the same request sequence. */
  seed: number;
}

/**
 * Which error, if any, the next OBD request gets: scripted ones first (`inject`), in order,
 * then a seeded draw against the configured rates.
 */
export class FaultPlan {
  private readonly scripted: { answer: ElmErrorAnswer; remaining: number }[] = [];
  private readonly rng: Random | null;
  private readonly table: [ElmErrorAnswer, number][];

  constructor(rates?: FaultRates) {
    this.table = Object.entries(rates?.rates ?? {}).filter(([, p]) => (p ?? 0) > 0) as [
      ElmErrorAnswer,
      number,
    ][];
    const total = this.table.reduce((sum, [, p]) => sum + p, 0);
    if (total > 1) throw new SimError(SimErrorCode.InvalidOption, `fault rates add up to ${total} > 1`);
    for (const [answer] of this.table) elmErrorAnswer(answer);
    this.rng = this.table.length > 0 ? Random.fork(rates!.seed, 'elm-faults') : null;
  }

  /** The next `count` OBD requests answer `answer`. */
  inject(answer: ElmErrorAnswer, count = 1): void {
    if (count > 0) this.scripted.push({ answer, remaining: count });
  }

  get pending(): number {
    return this.scripted.reduce((n, s) => n + s.remaining, 0);
  }

  clear(): void {
    this.scripted.length = 0;
  }

  next(): ElmErrorAnswer | null {
    const head = this.scripted[0];
    if (head) {
      head.remaining -= 1;
      if (head.remaining <= 0) this.scripted.shift();
      return head.answer;
    }
    if (!this.rng) return null;
    let u = this.rng.next();
    for (const [answer, p] of this.table) {
      if (u < p) return answer;
      u -= p;
    }
    return null;
  }
}
