/**
 * Trouble codes: service 03 (stored, the MIL's), 07 (pending: seen once, not yet confirmed),
 * 0A (permanent: survive a clear until the monitor passes again), and 04 (clear). SAE J1979:
 * each DTC is two bytes (SAE J2012 encoding, see dtcFromBytes); on ISO 15765-4 the answer starts
 * with the number of codes, on the older protocols it comes in lines of three codes padded with
 * 00 00.
 */
import { AgentError, AgentErrorCode, isAgentError } from '../../errors.ts';
import { describeDtc, isGenericDtc } from '../dtc-descriptions.ts';
import type { EcuMessage } from '../frames/assembler.ts';
import { dtcFromBytes } from '../pids.ts';
import type { ObdRequester } from './request.ts';

export type DtcKind = 'stored' | 'pending' | 'permanent';

export const DTC_SERVICES: Readonly<Record<DtcKind, number>> = {
  stored: 0x03,
  pending: 0x07,
  permanent: 0x0a,
};

export interface TroubleCode {
  code: string;
  kind: DtcKind;
  ecu: string;
  description: string;
  /** SAE-defined meaning (P0xxx...) rather than the manufacturer's. */
  generic: boolean;
}

export interface DtcReadResult {
  kind: DtcKind;
  /** False when the ECUs refuse the service (negative answer), e.g. 0A before 2010. NO DATA: none. */
  supported: boolean;
  codes: TroubleCode[];
}

/**
 * One ECU message -> its codes. `countByte`: the CAN form (`43 02 01 33 04 20`); without it the
 * legacy form (`43 01 33 04 20 00 00`). Pairs 00 00 are padding, never a code.
 */
export function decodeDtcMessage(data: readonly number[], countByte: boolean): string[] {
  const codes: string[] = [];
  let i = 1;
  let limit = Number.POSITIVE_INFINITY;
  if (countByte) {
    limit = data[1] ?? 0;
    i = 2;
  }
  for (; i + 1 < data.length && codes.length < limit; i += 2) {
    const hi = data[i]!;
    const lo = data[i + 1]!;
    if (hi === 0 && lo === 0) continue;
    codes.push(dtcFromBytes(hi, lo));
  }
  return codes;
}

export function troubleCodes(
  kind: DtcKind,
  messages: readonly EcuMessage[],
  countByte: boolean,
): TroubleCode[] {
  const service = DTC_SERVICES[kind] + 0x40;
  const out: TroubleCode[] = [];
  for (const { ecu, data } of messages) {
    if (data[0] !== service) continue;
    for (const code of decodeDtcMessage(data, countByte)) {
      out.push({ code, kind, ecu, description: describeDtc(code), generic: isGenericDtc(code) });
    }
  }
  return out;
}

export async function readTroubleCodes(
  requester: ObdRequester,
  kind: DtcKind,
  countByte: boolean,
): Promise<DtcReadResult> {
  try {
    const messages = await requester.request(DTC_SERVICES[kind].toString(16).toUpperCase().padStart(2, '0'), {
      timeoutMs: 5000,
    });
    return { kind, supported: true, codes: troubleCodes(kind, messages, countByte) };
  } catch (err) {
    // Legacy ECUs answer NO DATA to 03 when no code is stored; 0A is refused before 2010.
    if (
      isAgentError(err, AgentErrorCode.ObdNoData) ||
      isAgentError(err, AgentErrorCode.ObdNegativeResponse)
    ) {
      return { kind, supported: isAgentError(err, AgentErrorCode.ObdNoData), codes: [] };
    }
    throw err;
  }
}

/**
 * Service 04: clears stored and pending codes, freeze frames and readiness monitor results
 * (J1979 "Clear/reset emission-related diagnostic information"): the vehicle then fails an
 * emissions inspection until every monitor has run again. Only with `confirmed`.
 */
export async function clearTroubleCodes(requester: ObdRequester, confirmed: boolean): Promise<string[]> {
  if (!confirmed) {
    throw new AgentError(
      AgentErrorCode.ObdConfirmationRequired,
      'clearing trouble codes also resets the emission readiness monitors; confirm explicitly',
    );
  }
  const messages = await requester.request('04', { timeoutMs: 5000 });
  return messages.filter((m) => m.data[0] === 0x44).map((m) => m.ecu);
}
