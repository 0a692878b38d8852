/**
 * Which form of service 01 request the adapter takes. The ELM327 has two speed-ups (data sheet,
 * "Talking to the Vehicle"): up to six PIDs in one request on ISO 15765-4 (SAE J1979), and the
 * reply-count digit (`010C1`, v1.3+) that skips the chip's final wait. Clones sold as "v1.5"
 * refuse either in their own way (issue 14; python-OBD never sends multi-PID requests for this
 * reason): `?`, `NO DATA`, or a valid answer that carries only the first PID.
 *
 *   connect: assumedRequestMode (settings, chip version, protocol)
 *        |
 *        v
 *   ObdSession.detectRequestMode: reads P1 with the digit, then P1 P2 in one request, two PIDs
 *   the ECU announced in its support maps (probePids), so a PID the ECU lacks is never taken
 *   for a refusal
 *        |
 *        v
 *   ObdSession.readPids (the probe and every poll): `?` to the digit -> the same line without it;
 *   `?`, NO DATA or a short answer (unansweredPids) to several PIDs -> the PIDs one by one; when
 *   those are answered the adapter was at fault, and the session keeps the slower form
 */
import { type AgentError, AgentErrorCode, isAgentError } from '../../errors.ts';
import type { EcuMessage } from '../frames/assembler.ts';
import { pidLength, type SupportMap, splitMode01 } from './current-data.ts';

export interface RequestMode {
  /** Up to six PIDs per service 01 request (CAN only). */
  multiPid: boolean;
  /** The reply-count digit on service 01 requests (CAN only). */
  replyCount: boolean;
  /** What showed it (`010C0D1: ?`, `010C0D1: answered 0C 0D`, `not CAN`): for logs and `obd info`. */
  multiPidEvidence: string;
  replyCountEvidence: string;
}

/** 'auto': probe and fall back; 'on' / 'off': as told, never probed. */
export type RequestModeSetting = 'auto' | 'on' | 'off';

export interface RequestModeContext {
  /** The vehicle speaks ISO 15765-4: both speed-ups exist only there. */
  can: boolean;
  /** The chip's version takes the digit (ELM327 v1.3+, every STN). */
  chipReplyCount: boolean;
  multiPid: RequestModeSetting;
  replyCount: RequestModeSetting;
}

/** What the settings, the protocol and the chip's version allow, before anything is asked. */
export function assumedRequestMode(context: RequestModeContext): RequestMode {
  if (!context.can) {
    const why = 'not CAN: one PID per request (J1979 outside ISO 15765-4)';
    return { multiPid: false, replyCount: false, multiPidEvidence: why, replyCountEvidence: why };
  }
  const multiPid = context.multiPid !== 'off';
  const replyCount = context.replyCount === 'on' || (context.replyCount === 'auto' && context.chipReplyCount);
  return {
    multiPid,
    replyCount,
    multiPidEvidence: context.multiPid === 'auto' ? 'assumed, not probed' : `turned ${context.multiPid}`,
    replyCountEvidence:
      context.replyCount !== 'auto'
        ? `turned ${context.replyCount}`
        : context.chipReplyCount
          ? 'assumed from the chip version, not probed'
          : 'the chip is older than ELM327 v1.3',
  };
}

/** Engine speed, speed, coolant, throttle, load, intake air, fuel level: nearly every engine ECU answers these, and the poll asks them anyway. */
const PROBE_PREFERENCE: readonly number[] = [0x0c, 0x0d, 0x05, 0x11, 0x04, 0x0f, 0x2f];

/**
 * Two data PIDs of fixed length from the ECU announcing the most (the engine ECU), the common
 * ones first: only what the ECU said it has, so a PID missing from the answer is the adapter's doing.
 */
export function probePids(support: SupportMap): number[] {
  const rank = (pid: number) => {
    const i = PROBE_PREFERENCE.indexOf(pid);
    return i === -1 ? PROBE_PREFERENCE.length + pid : i;
  };
  let best: number[] = [];
  for (const pids of support.values()) {
    const usable = [...pids].filter((p) => p % 0x20 !== 0 && (pidLength(p) ?? 0) > 0);
    if (usable.length > best.length) best = usable.sort((a, b) => rank(a) - rank(b));
  }
  return best.slice(0, 2);
}

/**
 * PIDs of `batch` that an answering ECU announced but left out of its answer, as a first-PID-only
 * clone does. An answer cut short (a bad frame) is skipped: what it lacks is a transmission error.
 */
export function unansweredPids(
  batch: readonly number[],
  messages: readonly EcuMessage[],
  support: SupportMap,
): number[] {
  const missing = new Set<number>();
  for (const { ecu, data } of messages) {
    const split = splitMode01(data);
    const announced = support.get(ecu);
    if (split.error || !announced) continue;
    for (const pid of batch) if (announced.has(pid) && !split.values.has(pid)) missing.add(pid);
  }
  return [...missing];
}

/** `?` or `NO DATA`: how clones refuse a request form they do not take. */
export function isRefusal(err: unknown): err is AgentError {
  return isAgentError(err, AgentErrorCode.ObdUnknownCommand) || isAgentError(err, AgentErrorCode.ObdNoData);
}

export function refusalText(err: AgentError): string {
  return err.code === AgentErrorCode.ObdUnknownCommand ? '?' : 'NO DATA';
}
