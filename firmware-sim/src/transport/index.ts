import type { Logger } from '@fleet/shared/log';
import { SimError, SimErrorCode } from '../errors.ts';
import type { ByteEndpoint } from './endpoint.ts';
import { openSerialEndpoint } from './serial.ts';
import { openTcpEndpoint } from './tcp.ts';

export type { ByteEndpoint } from './endpoint.ts';
export { createEndpointPair } from './memory.ts';
export { createPtyPair, type PtyPair } from './pty-pair.ts';

export type EndpointSpec = { kind: 'serial'; path: string } | { kind: 'tcp'; host: string; port: number };

/** `tcp://HOST:PORT` (listen there; port 0 picks a free one) or a serial device path. */
export function parseEndpointSpec(spec: string): EndpointSpec {
  if (/^tcp:\/\//i.test(spec)) {
    const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/i.exec(spec);
    const port = m ? Number(m[2]) : Number.NaN;
    if (!m || port > 65535) {
      throw new SimError(
        SimErrorCode.InvalidEndpointSpec,
        `invalid endpoint "${spec}": expected tcp://HOST:PORT`,
      );
    }
    return { kind: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port };
  }
  if (spec.trim() === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw new SimError(
      SimErrorCode.InvalidEndpointSpec,
      `invalid endpoint "${spec}": expected a serial device path or tcp://HOST:PORT`,
    );
  }
  return { kind: 'serial', path: spec };
}

export async function openEndpoint(
  spec: string,
  options: {
    logger?: Logger /** Serial line rate, default 38400 (a pty ignores it). */;
    baudRate?: number;
  } = {},
): Promise<ByteEndpoint> {
  const parsed = parseEndpointSpec(spec);
  return parsed.kind === 'tcp'
    ? openTcpEndpoint(parsed.host, parsed.port, options.logger ? { logger: options.logger } : {})
    : openSerialEndpoint(parsed.path, options);
}
