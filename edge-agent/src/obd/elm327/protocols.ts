/**
 * OBD protocols by ELM327 number (data sheet, "ATSP h": 0-C) and how their answers print with
 * headers on (ATH1): CAN shows the 11- or 29-bit identifier and the ISO-TP PCI byte, the older
 * protocols three header bytes and a trailing checksum.
 */
export type FrameFormat = 'can11' | 'can29' | 'legacy';

export interface ObdProtocol {
  number: number;
  name: string;
  format: FrameFormat;
}

export const PROTOCOLS: readonly ObdProtocol[] = [
  { number: 1, name: 'SAE J1850 PWM (41.6 kbaud)', format: 'legacy' },
  { number: 2, name: 'SAE J1850 VPW (10.4 kbaud)', format: 'legacy' },
  { number: 3, name: 'ISO 9141-2 (5 baud init, 10.4 kbaud)', format: 'legacy' },
  { number: 4, name: 'ISO 14230-4 KWP (5 baud init, 10.4 kbaud)', format: 'legacy' },
  { number: 5, name: 'ISO 14230-4 KWP (fast init, 10.4 kbaud)', format: 'legacy' },
  { number: 6, name: 'ISO 15765-4 CAN (11 bit ID, 500 kbaud)', format: 'can11' },
  { number: 7, name: 'ISO 15765-4 CAN (29 bit ID, 500 kbaud)', format: 'can29' },
  { number: 8, name: 'ISO 15765-4 CAN (11 bit ID, 250 kbaud)', format: 'can11' },
  { number: 9, name: 'ISO 15765-4 CAN (29 bit ID, 250 kbaud)', format: 'can29' },
  { number: 0xa, name: 'SAE J1939 CAN (29 bit ID, 250 kbaud)', format: 'can29' },
  { number: 0xb, name: 'USER1 CAN (11 bit ID, 125 kbaud)', format: 'can11' },
  { number: 0xc, name: 'USER2 CAN (11 bit ID, 50 kbaud)', format: 'can11' },
];

export function protocolByNumber(n: number): ObdProtocol | undefined {
  return PROTOCOLS.find((p) => p.number === n);
}

/** Multi-PID requests exist on ISO 15765-4 only (SAE J1979, "request multiple PIDs"). */
export function isCan(protocol: ObdProtocol): boolean {
  return protocol.format !== 'legacy';
}

/**
 * `ATDPN` answer -> protocol: "A6" is automatic, currently 6; "6" fixed. Null when the chip
 * has not found one yet ("A0"/"0") or the answer is not a protocol number.
 */
export function parseDescribeProtocolNumber(answer: string): { protocol: ObdProtocol; auto: boolean } | null {
  const m = /^(A?)([0-9A-C])$/i.exec(answer.trim());
  if (!m) return null;
  const protocol = protocolByNumber(Number.parseInt(m[2]!, 16));
  return protocol ? { protocol, auto: m[1] !== '' } : null;
}
