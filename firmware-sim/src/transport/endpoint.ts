/**
 * A byte endpoint: where a simulated device talks to its host. The same interface over a serial
 * device (a pty from socat, a USB adapter), a TCP listener (a WiFi ELM327 on port 35000) or an
 * in-memory pair in tests, so the emulators never know which one they sit on.
 */
export interface ByteEndpoint {
  /** What this endpoint is, for log lines: the device path or the listening address. */
  readonly description: string;
  /** Send bytes to the host; dropped (not queued) while no host is connected to a listener. */
  write(bytes: Uint8Array): void;
  /** Register a receiver of the host's bytes; returns a function that unregisters it. */
  onData(listener: (bytes: Uint8Array) => void): () => void;
  close(): Promise<void>;
  /**
   * The device went away (an adapter pulled out of the socket): a TCP listener drops its client
   * and stops listening; a serial device stays open (a pty cannot vanish under its host) and
   * the emulator behind it simply falls silent. Writes are dropped until `reconnect()`.
   */
  disconnect?(): Promise<void>;
  /** The device is back: a TCP listener listens again on the same port. */
  reconnect?(): Promise<void>;
  /**
   * Listeners only: resolves when the first host has connected. A serial device has no such
   * moment (a pty cannot tell whether its other end is open), so it leaves this undefined.
   */
  readonly firstHostConnected?: Promise<void>;
}

/** Fan-out of received bytes to the registered listeners; shared by the endpoint kinds. */
export class DataListeners {
  private readonly listeners = new Set<(bytes: Uint8Array) => void>();

  add(listener: (bytes: Uint8Array) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(bytes: Uint8Array): void {
    for (const listener of this.listeners) listener(bytes);
  }

  clear(): void {
    this.listeners.clear();
  }
}
