/**
 * How an ELM327 prints one ECU answer received over ISO 15765-4 CAN (11-bit ids), with CAN
 * auto-formatting on (the default, ATCAF1):
 *
 *   single frame (<= 7 bytes)      headers off: 41 0D 32
 *                                  headers on:  7E8 03 41 0D 32         (PCI = length)
 *   multi-frame (ISO-TP, > 7)      headers off: 014                     (total length, 3 hex digits)
 *                                               0: 49 02 01 31 44 34    (first frame's 6 bytes)
 *                                               1: 47 50 30 30 52 35 35 (consecutive frames, 7 each)
 *                                  headers on:  7E8 10 14 49 02 01 31 44 34
 *                                               7E8 21 47 50 30 30 52 35 35
 *
 * Consecutive frames are padded to 8 bytes on the bus and the adapter shows the padding, so a
 * reader must cut the data at the announced length. With spaces on, the chip puts a space after
 * every byte, the last one included.
 */
export interface CanPrintOptions {
  readonly headers: boolean;
  readonly spaces: boolean;
  /**
   * ATCAF1 (default true): PCI bytes and padding removed, multi-frame answers numbered.
   * ATCAF0: every frame printed raw, all 8 data bytes (PCI and padding included).
   */
  readonly autoFormat?: boolean;
}

/** Response id of the engine ECU (request 7E0 + 8), ISO 15765-4 physical addressing. */
export const ENGINE_ECU_CAN_ID = 0x7e8;
/** Filler byte of unused frame bytes; ECUs differ (00, 55, AA, CC), this one uses 00. */
export const CAN_PADDING = 0x00;

const hex2 = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');

function bytesText(bytes: readonly number[], spaces: boolean): string {
  return spaces ? bytes.map((b) => `${hex2(b)} `).join('') : bytes.map(hex2).join('');
}

export function formatCanResponse(
  payload: Uint8Array,
  options: CanPrintOptions,
  canId: number = ENGINE_ECU_CAN_ID,
): string[] {
  const data = [...payload];
  const header = options.spaces ? `${canId.toString(16).toUpperCase()} ` : canId.toString(16).toUpperCase();
  const frameLine = (bytes: number[]): string =>
    `${options.headers ? header : ''}${bytesText(bytes, options.spaces)}`;

  if (data.length > 0xfff) throw new RangeError(`ISO-TP payload too long: ${data.length}`);
  if (options.autoFormat === false) return rawFrames(data).map(frameLine);
  if (data.length <= 7) {
    return [frameLine(options.headers ? [data.length, ...data] : data)];
  }

  const lines: string[] = [];
  const first = data.slice(0, 6);
  if (options.headers) {
    lines.push(frameLine([0x10 | (data.length >> 8), data.length & 0xff, ...first]));
  } else {
    lines.push(data.length.toString(16).toUpperCase().padStart(3, '0'));
    lines.push(`0:${options.spaces ? ' ' : ''}${bytesText(first, options.spaces)}`);
  }
  let seq = 1;
  for (let offset = 6; offset < data.length; offset += 7, seq++) {
    const chunk = data.slice(offset, offset + 7);
    while (chunk.length < 7) chunk.push(CAN_PADDING);
    const sn = seq & 0x0f;
    if (options.headers) lines.push(frameLine([0x20 | sn, ...chunk]));
    else
      lines.push(
        `${sn.toString(16).toUpperCase()}:${options.spaces ? ' ' : ''}${bytesText(chunk, options.spaces)}`,
      );
  }
  return lines;
}

/** The 8-byte CAN frames of an ISO-TP payload (ISO 15765-2): single, or first + consecutive. */
function rawFrames(data: number[]): number[][] {
  const pad = (frame: number[]): number[] => {
    while (frame.length < 8) frame.push(CAN_PADDING);
    return frame;
  };
  if (data.length <= 7) return [pad([data.length, ...data])];
  const frames = [[0x10 | (data.length >> 8), data.length & 0xff, ...data.slice(0, 6)]];
  for (let offset = 6, seq = 1; offset < data.length; offset += 7, seq++) {
    frames.push(pad([0x20 | (seq & 0x0f), ...data.slice(offset, offset + 7)]));
  }
  return frames;
}
