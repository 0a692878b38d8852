import { SimError, SimErrorCode } from '../errors.ts';

/**
 * OBD-II protocols as the ELM327 numbers them (data sheet, "ATSP h"), and what a simulated
 * vehicle can speak: ISO 15765-4 CAN 11/500 (most vehicles since 2008), ISO 9141-2 (K-line,
 * European and Asian cars before ~2004) or ISO 14230-4 KWP2000 (K-line, early 2000s).
 */
export const PROTOCOL_NAMES = [
  'AUTO',
  'SAE J1850 PWM',
  'SAE J1850 VPW',
  'ISO 9141-2',
  'ISO 14230-4 (KWP 5BAUD)',
  'ISO 14230-4 (KWP FAST)',
  'ISO 15765-4 (CAN 11/500)',
  'ISO 15765-4 (CAN 29/500)',
  'ISO 15765-4 (CAN 11/250)',
  'ISO 15765-4 (CAN 29/250)',
  'SAE J1939 (CAN 29/250)',
  'USER1 (CAN 11/125)',
  'USER2 (CAN 11/50)',
] as const;

export type VehicleProtocol = 'can' | 'iso9141' | 'kwp';
export const VEHICLE_PROTOCOLS: readonly VehicleProtocol[] = ['can', 'iso9141', 'kwp'];

export type ProtocolFamily = 'j1850' | 'kline' | 'can';

export interface ProtocolSpec {
  readonly vehicle: VehicleProtocol;
  /** The number ATDPN reports once connected (the auto search's result). */
  readonly number: number;
  /** Every ATSP number this vehicle answers on (a KWP ECU accepts slow and fast init). */
  readonly answersOn: readonly number[];
  readonly family: ProtocolFamily;
  /**
   * Bus time of one request-response pair beyond the adapter's own latency, ms. K-line:
   * 10.4 kbaud (~1 ms a byte), ECU response time P2 >= 25 ms and inter-message gap P3 >= 55 ms
   * (ISO 14230-2 timing): a K-line vehicle answers a few requests a second where CAN does tens.
   */
  readonly busMs: (requestBytes: number, responseBytes: number) => number;
}

const KLINE_BYTE_MS = 10 / 10.4; // 10 bits per byte at 10400 baud

const klineBus = (requestBytes: number, responseBytes: number): number =>
  // Header (3) + checksum (1) around each message, then P2 (25) and P3 (55).
  Math.round((requestBytes + 4 + responseBytes + 4) * KLINE_BYTE_MS) + 25 + 55;

export const PROTOCOLS: Readonly<Record<VehicleProtocol, ProtocolSpec>> = {
  can: { vehicle: 'can', number: 6, answersOn: [6], family: 'can', busMs: () => 0 },
  iso9141: {
    vehicle: 'iso9141',
    number: 3,
    answersOn: [3],
    family: 'kline',
    busMs: klineBus,
  },
  kwp: {
    vehicle: 'kwp',
    number: 5,
    answersOn: [4, 5],
    family: 'kline',
    busMs: klineBus,
  },
};

/**
 * Bus initialisation on first contact with protocol `n`, ms: the 5-baud address byte alone takes
 * 2 s (ISO 9141-2 section 5.2.4; ISO 14230 slow init likewise); fast init (ISO 14230-2, a 25 ms
 * wake-up pattern then StartCommunication) is quick. CAN and J1850 need none.
 */
export function busInitMs(n: number): number {
  if (n === 3 || n === 4) return 2600;
  if (n === 5) return 350;
  return 0;
}

export function familyOf(protocolNumber: number): ProtocolFamily {
  if (protocolNumber === 1 || protocolNumber === 2) return 'j1850';
  if (protocolNumber >= 3 && protocolNumber <= 5) return 'kline';
  return 'can';
}

export function protocolByName(name: string): ProtocolSpec {
  const spec = PROTOCOLS[name as VehicleProtocol];
  if (!spec) {
    throw new SimError(
      SimErrorCode.InvalidOption,
      `unknown protocol "${name}" (known: ${VEHICLE_PROTOCOLS.join(', ')})`,
    );
  }
  return spec;
}
