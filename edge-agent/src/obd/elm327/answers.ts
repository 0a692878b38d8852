/**
 * ELM327 answer lines -> a typed error, or null for data. Every message of the ELM327 data sheet
 * ("Messages and What They Mean") that means "no data from the vehicle" gets its own AgentError
 * code, so the caller can tell a transient bus hiccup (retry) from a silent vehicle (ignition off)
 * from an adapter that did not understand (`?`).
 */
import { AgentError, AgentErrorCode } from '../../errors.ts';

interface AnswerRule {
  code: AgentErrorCode;
  /** The message as the chip prints it, for the error text. */
  label: string;
  test(line: string): boolean;
}

const exact = (text: string) => (line: string) => line === text;

/** Checked in this order: the first rule matching any line wins. */
const RULES: readonly AnswerRule[] = [
  // An error marker after data bytes still spoils the whole answer: "41 0C 1A <RX ERROR".
  { code: AgentErrorCode.ObdRxError, label: '<RX ERROR', test: (l) => l.endsWith('<RX ERROR') },
  { code: AgentErrorCode.ObdDataError, label: 'DATA ERROR', test: (l) => /<?\s*DATA ERROR$/.test(l) },
  {
    code: AgentErrorCode.ObdBusInitError,
    label: 'BUS INIT: ...ERROR',
    test: (l) => /^BUS INIT:.*ERROR$/.test(l),
  },
  { code: AgentErrorCode.ObdBufferFull, label: 'BUFFER FULL', test: exact('BUFFER FULL') },
  { code: AgentErrorCode.ObdBusBusy, label: 'BUS BUSY', test: exact('BUS BUSY') },
  { code: AgentErrorCode.ObdBusError, label: 'BUS ERROR', test: exact('BUS ERROR') },
  { code: AgentErrorCode.ObdCanError, label: 'CAN ERROR', test: exact('CAN ERROR') },
  { code: AgentErrorCode.ObdFeedbackError, label: 'FB ERROR', test: exact('FB ERROR') },
  { code: AgentErrorCode.ObdStopped, label: 'STOPPED', test: exact('STOPPED') },
  { code: AgentErrorCode.ObdUnableToConnect, label: 'UNABLE TO CONNECT', test: exact('UNABLE TO CONNECT') },
  // v2.x chips print LV RESET when the supply sagged and they restarted; ACT ALERT before sleeping.
  { code: AgentErrorCode.ObdAdapterReset, label: 'LV RESET', test: exact('LV RESET') },
  { code: AgentErrorCode.ObdAdapterError, label: 'ACT ALERT', test: exact('ACT ALERT') },
  // ERRxx: internal errors, e.g. ERR94 (fatal CAN error, the chip resets its CAN module).
  { code: AgentErrorCode.ObdAdapterError, label: 'ERRxx', test: (l) => /^ERR\d{2}$/.test(l) },
  { code: AgentErrorCode.ObdNoData, label: 'NO DATA', test: exact('NO DATA') },
  { code: AgentErrorCode.ObdUnknownCommand, label: '?', test: exact('?') },
];

/**
 * The error an answer stands for, or null when its lines are data. `command` goes into the
 * message so a log line says which request failed.
 */
export function answerError(command: string, lines: readonly string[]): AgentError | null {
  for (const rule of RULES) {
    const line = lines.find((l) => rule.test(l));
    if (line !== undefined) return new AgentError(rule.code, `${command}: ${line}`);
  }
  return null;
}

/** Lines an adapter prints on power-up: an ATZ banner in the middle of a session means it restarted. */
export function isIdentityBanner(line: string): boolean {
  return /^(ELM327|STN\d|OBDLink|OBDII)/i.test(line);
}
