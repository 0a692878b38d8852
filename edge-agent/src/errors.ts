/**
 * The agent's one error type; codes grouped in ranges per subsystem (zwave-js style) so a
 * technician can tell a cable problem from a vehicle problem from a network problem by number.
 * Codes are stable: logs, support notes and the CLI's `[E302]` suffix refer to them.
 */
export enum AgentErrorCode {
  // 1xx configuration
  ConfigInvalid = 100,
  // 2xx transport (serial port, TCP adapter)
  PortNotFound = 200,
  PortBusy = 201,
  PortOpenFailed = 202,
  PortClosed = 203,
  // 3xx OBD-II / ELM327. 300-303 are the foundation's; each adapter message has its own code
  // after them (ELM327 data sheet, "Messages and What They Mean").
  ObdTimeout = 300,
  ObdUnexpectedAnswer = 301,
  /** `NO DATA`: nothing answered the request (unsupported PID, or ignition off). */
  ObdNoData = 302,
  /** `ERRxx` and other adapter-internal faults without a code of their own. */
  ObdAdapterError = 303,
  /** `?`: the adapter did not understand the command. */
  ObdUnknownCommand = 304,
  /** `BUS BUSY`: too much traffic to send the request. Transient. */
  ObdBusBusy = 305,
  /** `CAN ERROR`: the CAN controller could not send or receive (wrong protocol, bus fault). Transient. */
  ObdCanError = 306,
  /** `<RX ERROR`: a CAN frame was received with an error. Transient. */
  ObdRxError = 307,
  /** `BUFFER FULL`: the adapter's 256-byte RS232 buffer overflowed (host too slow). Transient. */
  ObdBufferFull = 308,
  /** `STOPPED`: a character from the host interrupted the request. Transient. */
  ObdStopped = 309,
  /** `FB ERROR`: feedback error on the J1850/ISO output. Transient. */
  ObdFeedbackError = 310,
  /** `DATA ERROR` / `<DATA ERROR`: bad checksum or length in an answer. Transient. */
  ObdDataError = 311,
  /** `BUS INIT: ...ERROR`: the ISO 9141 / 14230 wake-up failed. Transient. */
  ObdBusInitError = 312,
  /** `UNABLE TO CONNECT`: the protocol search found nothing (ignition off). */
  ObdUnableToConnect = 313,
  /** `BUS ERROR`: wiring fault (a shorted bus line). */
  ObdBusError = 314,
  /** The adapter restarted by itself (`LV RESET`, a power-up banner mid-session): settings lost. */
  ObdAdapterReset = 315,
  /** No ELM327 answers on the port at any tried baud rate. */
  ObdAdapterNotFound = 316,
  /** The ECU answered `7F sid nrc` (J1979 / ISO 14229 negative response). */
  ObdNegativeResponse = 317,
  /** An answer that cannot be assembled or split (bad ISO-TP frame, unknown PID length). */
  ObdBadFrame = 318,
  /** No vehicle answers on any protocol while the adapter does: ignition off or not plugged in. */
  ObdNoVehicle = 319,
  /** A destructive request (mode 04) without the explicit confirmation. */
  ObdConfirmationRequired = 320,
  /** A PID or service the vehicle does not support, or a PID name nobody knows. */
  ObdUnsupported = 321,
  // 33x vehicle health readings (freeze frame, on-board monitor results)
  /** A service 02 answer that is not `42 PID frame data` of the PID asked. */
  HealthBadFreezeFrame = 330,
  /** A service 06 answer whose length is not a whole number of 9-byte test results (CAN format). */
  HealthBadMonitorRecord = 331,
  // 4xx GPS
  GpsBadSentence = 400,
  // 5xx store
  StoreFailed = 500,
  // 6xx sync
  BrokerUnreachable = 600,
  // 7xx models (signed artifacts from the cloud, the engine-anomaly detector)
  /** Not an artifact: bad JSON, missing fields, weights that do not fit the network. */
  ModelMalformed = 700,
  /** No signature: never run an unsigned model. */
  ModelUnsigned = 701,
  /** A signature that the trusted publisher key does not confirm (edited, or another key). */
  ModelBadSignature = 702,
  /** The weights' SHA-256 differs from the signed manifest's (corrupted or swapped weights). */
  ModelChecksumMismatch = 703,
  /** Not above every version installed here: a replayed old artifact or an already rolled-back one. */
  ModelOlderVersion = 704,
  /** Trained for another vehicle. */
  ModelWrongVehicle = 705,
  /** The publisher's public key file is missing or not an Ed25519 key. */
  ModelKeyInvalid = 706,
  /** The models folder cannot be read or written. */
  ModelStoreFailed = 707,
  /** `model rollback` with no previous version kept. */
  ModelNoPrevious = 708,
  /** TensorFlow.js (wasm backend) did not start: the agent's install, not the artifact, is at fault. */
  ModelRuntimeFailed = 709,
  // 8xx recorded drive logs (fleet-agent replay)
  /** The log file does not exist or cannot be read. */
  LogNotFound = 800,
  /** Not a drive log in the named format (no header, no time column), or no readable row. */
  LogMalformed = 801,
  // 9xx remote commands (edge-agent/src/commands: signed commands from the cloud)
  /** The cloud's command public key file is missing or not an Ed25519 key. */
  CommandKeyInvalid = 900,
  /** A command this agent cannot serve as configured (rollbackModel without engine models). */
  CommandUnavailable = 901,
  /** Too many live PID streams at once (each costs poll time on the OBD link). */
  CommandStreamLimit = 902,
}

export class AgentError extends Error {
  override name = 'AgentError';
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isAgentError(err: unknown, code?: AgentErrorCode): err is AgentError {
  return err instanceof AgentError && (code === undefined || err.code === code);
}

/** 2xx: the port itself failed (missing, busy, closed): reopen it, the vehicle is not at fault. */
export function isTransportError(err: unknown): err is AgentError {
  return isAgentError(err) && err.code >= 200 && err.code < 300;
}

/** 3xx: anything the ELM327 or the vehicle said or failed to say. */
export function isObdError(err: unknown): err is AgentError {
  return isAgentError(err) && err.code >= 300 && err.code < 400;
}

/**
 * Bus and adapter hiccups that a repeat of the same request usually cures (ELM327 data sheet:
 * BUS BUSY, CAN ERROR, <RX ERROR, BUFFER FULL, STOPPED, FB ERROR, <DATA ERROR, BUS INIT ERROR).
 */
const TRANSIENT_OBD_CODES: ReadonlySet<AgentErrorCode> = new Set([
  AgentErrorCode.ObdBusBusy,
  AgentErrorCode.ObdCanError,
  AgentErrorCode.ObdRxError,
  AgentErrorCode.ObdBufferFull,
  AgentErrorCode.ObdStopped,
  AgentErrorCode.ObdFeedbackError,
  AgentErrorCode.ObdDataError,
  AgentErrorCode.ObdBusInitError,
]);

export function isTransientObdError(err: unknown): err is AgentError {
  return isAgentError(err) && TRANSIENT_OBD_CODES.has(err.code);
}

/** The adapter answers but the vehicle does not: ignition off, engine stopped, not plugged in. */
export function isVehicleSilent(err: unknown): err is AgentError {
  return (
    isAgentError(err) &&
    (err.code === AgentErrorCode.ObdNoData ||
      err.code === AgentErrorCode.ObdUnableToConnect ||
      err.code === AgentErrorCode.ObdNoVehicle)
  );
}
