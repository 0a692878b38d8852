/**
 * The one error class of the simulator. Codes are grouped in ranges per subsystem so a log line or
 * an exit path can tell a configuration mistake from a broken port without parsing messages.
 */
export enum SimErrorCode {
  // 1xx: configuration and command line
  InvalidOption = 100,
  UnknownRoute = 101,
  InvalidScenario = 102,
  UnknownScenario = 103,

  // 2xx: transport (serial ports, TCP listeners)
  InvalidEndpointSpec = 200,
  PortNotFound = 201,
  PortOpenFailed = 202,
  ListenFailed = 203,
  PtyPairFailed = 204,

  // 3xx: ELM327 emulation
  InvalidVin = 300,
  InvalidDtc = 301,

  // 4xx: ground-truth output
  TruthWriteFailed = 400,
  LabelsWriteFailed = 401,
  LogWriteFailed = 402,
}

export class SimError extends Error {
  override readonly name = 'SimError';

  constructor(
    readonly code: SimErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isSimError(err: unknown, code?: SimErrorCode): err is SimError {
  return err instanceof SimError && (code === undefined || err.code === code);
}

/** Errors the user fixes by changing the command line (exit code 2), not by filing a bug. */
export function isUsageError(err: unknown): err is SimError {
  return err instanceof SimError && err.code < 300;
}
