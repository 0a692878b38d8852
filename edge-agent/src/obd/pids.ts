/**
 * Mode 01 PIDs as data plus small decoders (SAE J1979 / J1979-DA formulas; A, B = data bytes).
 * The foundation decodes what the telemetry sample carries; the acquisition work adds the rest.
 */
export interface PidDefinition {
  pid: number;
  name: string;
  unit: string;
  bytes: number;
  decode(data: readonly number[]): number;
}

export const PIDS = {
  /** 05 engine coolant temperature: A - 40 °C [-40...215]. */
  coolantC: {
    pid: 0x05,
    name: 'Engine coolant temperature',
    unit: '°C',
    bytes: 1,
    decode: ([a = 0]) => a - 40,
  },
  /** 0C engine speed: (256A + B) / 4 rpm [0...16383.75]. */
  rpm: {
    pid: 0x0c,
    name: 'Engine speed',
    unit: 'rpm',
    bytes: 2,
    decode: ([a = 0, b = 0]) => (256 * a + b) / 4,
  },
  /** 0D vehicle speed: A km/h [0...255]. */
  speedKmh: { pid: 0x0d, name: 'Vehicle speed', unit: 'km/h', bytes: 1, decode: ([a = 0]) => a },
  /** 2F fuel tank level input: 100A / 255 % [0...100]. */
  fuelLevelPct: {
    pid: 0x2f,
    name: 'Fuel tank level input',
    unit: '%',
    bytes: 1,
    decode: ([a = 0]) => (100 * a) / 255,
  },
} as const satisfies Record<string, PidDefinition>;

export type ObdReadingName = keyof typeof PIDS;

/**
 * Parses a mode 01 answer line with spaces and headers off (`410D3C`) into the PID's data bytes.
 * Returns null when the line is not the answer to `pid`.
 */
export function parseMode01Line(line: string, pid: number): number[] | null {
  const hex = line.replace(/\s+/g, '');
  if (!/^([0-9A-Fa-f]{2})+$/.test(hex)) return null;
  const bytes = hex.match(/../g)!.map((h) => Number.parseInt(h, 16));
  if (bytes[0] !== 0x41 || bytes[1] !== pid) return null;
  return bytes.slice(2);
}
