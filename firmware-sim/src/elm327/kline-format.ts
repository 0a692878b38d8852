/**
 * How an ELM327 prints ECU messages received over the K-line (ISO 9141-2, ISO 14230-4):
 *
 *   ISO 9141-2        headers off: 41 0D 32
 *                     headers on:  48 6B 10 41 0D 32 43      (priority 48, target 6B, ECU 10,
 *                                                              data, checksum)
 *   ISO 14230-4 KWP   headers on:  83 F1 10 41 0D 32 04      (format 80 + data length,
 *                                                              target F1 = tester, ECU 10)
 *
 * The checksum is the 8-bit sum of every byte before it (ISO 9141-2 section 9.1, ISO 14230-2
 * section 4.4); the adapter shows it only with headers on. A K-line message holds at most
 * 7 data bytes, so long answers (VIN, several DTCs) come as several messages, one per line,
 * without the ISO-TP line numbers CAN answers have.
 */
export interface KlinePrintOptions {
  readonly headers: boolean;
  readonly spaces: boolean;
}

/** Engine ECU address on the K-line (SAE J1979: 0x10 is the usual engine controller). */
export const ENGINE_ECU_KLINE_ADDRESS = 0x10;

const hex2 = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');

export function klineHeader(protocolNumber: number, dataLength: number, source: number): number[] {
  if (protocolNumber === 3) return [0x48, 0x6b, source];
  return [0x80 | (dataLength & 0x3f), 0xf1, source];
}

export function formatKlineResponse(
  messages: readonly Uint8Array[],
  options: KlinePrintOptions,
  protocolNumber: number,
  source: number = ENGINE_ECU_KLINE_ADDRESS,
): string[] {
  return messages.map((message) => {
    let bytes = [...message];
    if (options.headers) {
      const framed = [...klineHeader(protocolNumber, bytes.length, source), ...bytes];
      bytes = [...framed, framed.reduce((sum, b) => (sum + b) & 0xff, 0)];
    }
    return options.spaces ? bytes.map((b) => `${hex2(b)} `).join('') : bytes.map(hex2).join('');
  });
}
