/**
 * What every driver layer (ELM327, NMEA) reads and writes: a byte source/sink pair, built by a
 * factory so the same driver runs on a real serial port, a TCP socket (WiFi ELM327 adapters,
 * port 35000) or an in-process pipe in tests.
 */
export interface ByteStream {
  /** A human name for logs and errors: the port path or URL. */
  readonly name: string;
  write(data: Buffer | string): Promise<void>;
  onData(listener: (chunk: Buffer) => void): void;
  /** Called once when the other side goes away (unplugged adapter, closed socket). */
  onClose(listener: (err?: Error) => void): void;
  close(): Promise<void>;
}
