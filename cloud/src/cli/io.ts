/**
 * Where a `fleet-cloud` command writes: the console in production, an array in tests. A module
 * of its own so the command modules (fuel.ts, model.ts) and main.ts, which registers them, do not
 * import each other.
 */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const consoleIo: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) };
