import { AgentError, AgentErrorCode } from '../errors.ts';
import type { ByteStream } from './byte-stream.ts';
import { openSerial } from './serial.ts';
import { openTcp } from './tcp.ts';

/** `tcp://HOST:PORT` opens a socket; anything else is a serial device path. */
export async function openByteStream(spec: string, baudRate?: number): Promise<ByteStream> {
  if (spec.startsWith('tcp://')) {
    const url = new URL(spec);
    const port = Number(url.port);
    if (!url.hostname || !port) throw new AgentError(AgentErrorCode.ConfigInvalid, `bad TCP address ${spec}`);
    return openTcp(url.hostname, port);
  }
  return openSerial(spec, baudRate);
}
