/**
 * The agent's one error type; codes grouped in ranges per subsystem (zwave-js style) so a
 * technician can tell a cable problem from a vehicle problem from a network problem by number.
 */
export enum AgentErrorCode {
  // 1xx configuration
  ConfigInvalid = 100,
  // 2xx transport (serial port, TCP adapter)
  PortNotFound = 200,
  PortBusy = 201,
  PortOpenFailed = 202,
  PortClosed = 203,
  // 3xx OBD-II / ELM327
  ObdTimeout = 300,
  ObdUnexpectedAnswer = 301,
  ObdNoData = 302,
  ObdAdapterError = 303,
  // 4xx GPS
  GpsBadSentence = 400,
  // 5xx store
  StoreFailed = 500,
  // 6xx sync
  BrokerUnreachable = 600,
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
