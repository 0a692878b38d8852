/**
 * PGlite's one session served to several PostgreSQL wire-protocol connections (the cloud's pool,
 * pg-boss, a test's client):
 *
 *   connection A --messages--+                                      +--> A's answers
 *   connection B --messages--+--> session lock --> PGlite session --+--> B's answers
 *                                 (held from a connection's first message until the backend says
 *                                  ReadyForQuery "idle" in answer to one of its messages)
 *
 * Why not @electric-sql/pglite-socket's server: it queues message by message and keeps one
 * connection's turn only inside a transaction, so another connection's Parse could land between
 * one's Parse and its Bind (node-pg sends Parse/Bind/Describe/Execute/Sync for every query with
 * parameters). That replaced the unnamed statement or portal under load ("portal \"\" does not
 * exist") or answered a query with another one's rows: the API then found no session for a
 * signed-in user and sent them to sign in. Here a connection keeps the session for the whole
 * exchange the protocol defines: up to ReadyForQuery with status I (Sync, a simple query, the
 * end of COPY), and through transactions (status T or E) until they end.
 */
import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from '@fleet/shared/log';

const SSL_REQUEST = 80_877_103;
const CANCEL_REQUEST = 80_877_102;
const PROTOCOL_3 = 196_608;
/** The frontend's Sync: ends an extended-query exchange the owner left open (protocol 55.2.3). */
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);

/** Turns over PGlite's session: one connection at a time, waiters in arrival order. */
class SessionLock {
  private owner: Connection | null = null;
  private readonly waiting: { conn: Connection; resume: () => void }[] = [];

  async acquire(conn: Connection): Promise<void> {
    if (this.owner === conn) return;
    if (this.owner === null) {
      this.owner = conn;
      return;
    }
    await new Promise<void>((resume) => this.waiting.push({ conn, resume }));
  }

  release(conn: Connection): void {
    if (this.owner !== conn) return;
    const next = this.waiting.shift();
    this.owner = next?.conn ?? null;
    next?.resume();
  }

  /** A closed connection leaves the queue (it will never run). */
  forget(conn: Connection): void {
    const i = this.waiting.findIndex((w) => w.conn === conn);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  holds(conn: Connection): boolean {
    return this.owner === conn;
  }
}

/** Backend messages as they stream out, to see each ReadyForQuery and its transaction status. */
class ReadyForQueryWatch {
  private pending = Buffer.alloc(0);
  /** Status of the last ReadyForQuery seen since reset(): I idle, T in a transaction, E failed one. */
  last: string | null = null;

  reset(): void {
    this.last = null;
  }

  feed(chunk: Uint8Array): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk);
    while (buf.length >= 5) {
      const length = buf.readInt32BE(1);
      if (buf.length < 1 + length) break;
      if (buf[0] === 0x5a /* Z */ && length === 5) this.last = String.fromCharCode(buf[5]!);
      buf = buf.subarray(1 + length);
    }
    this.pending = Buffer.from(buf);
  }
}

class Connection {
  private buffer = Buffer.alloc(0);
  private started = false;
  private chain: Promise<void> = Promise.resolve();
  private readonly ready = new ReadyForQueryWatch();
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly db: PGlite,
    private readonly lock: SessionLock,
    private readonly log: Logger,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data) => this.receive(data));
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'embedded PostgreSQL client error'));
    socket.on('close', () => void this.close());
  }

  /** Splits the byte stream into whole messages and runs them in order, one at a time. */
  private receive(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
    for (;;) {
      let message: Buffer | null = null;
      if (!this.started) {
        // Startup-phase messages have no type byte: length, then a code or the protocol version.
        if (this.buffer.length < 8) return;
        const length = this.buffer.readInt32BE(0);
        if (this.buffer.length < length) return;
        const code = this.buffer.readInt32BE(4);
        message = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
        if (code === SSL_REQUEST) {
          this.socket.write('N'); // no TLS on loopback: the client goes on in plain text
          continue;
        }
        if (code === CANCEL_REQUEST) {
          this.socket.end(); // not supported: the query runs to its end
          return;
        }
        if (code !== PROTOCOL_3) {
          this.log.warn({ code }, 'embedded PostgreSQL: unsupported protocol; closing the connection');
          this.socket.destroy();
          return;
        }
        this.started = true;
      } else {
        if (this.buffer.length < 5) return;
        const length = 1 + this.buffer.readInt32BE(1);
        if (this.buffer.length < length) return;
        message = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
      }
      const bytes = Buffer.from(message);
      this.chain = this.chain.then(() => this.run(bytes));
    }
  }

  private async run(message: Buffer): Promise<void> {
    if (this.closed) return;
    if (message[0] === 0x58 /* X: Terminate */) {
      this.socket.end();
      return;
    }
    await this.lock.acquire(this);
    if (this.closed) {
      await this.giveBack();
      return;
    }
    this.ready.reset();
    try {
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(new Uint8Array(message), {
          onRawData: (chunk) => {
            this.ready.feed(chunk);
            if (chunk.length > 0 && this.socket.writable) this.socket.write(Buffer.from(chunk));
          },
        }),
      );
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'embedded PostgreSQL: a message failed');
      this.socket.destroy();
      return;
    }
    // The exchange is over and no transaction is open: the next connection may go.
    if (this.ready.last === 'I') this.lock.release(this);
  }

  /** The owner went away mid-exchange or mid-transaction: leave the session clean for the next. */
  private async giveBack(): Promise<void> {
    if (!this.lock.holds(this)) return;
    try {
      // Its answer has nobody to go to.
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(new Uint8Array(SYNC), { onRawData: () => {} }),
      );
      if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'embedded PostgreSQL: cleaning up after a client');
    }
    this.lock.release(this);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lock.forget(this);
    // After whatever of this connection is still running.
    await this.chain.catch(() => {});
    await this.giveBack();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export class PgliteServer {
  private server: net.Server | null = null;
  private readonly connections = new Set<Connection>();
  private readonly lock = new SessionLock();

  constructor(
    private readonly db: PGlite,
    private readonly log: Logger,
    /** [1...1000] concurrent client connections, default 50 (the cloud's pools and workers). */
    private readonly maxConnections = 50,
  ) {}

  /** Listens on host:port (0: a free port); resolves with the port. */
  start(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => {
        const conn = new Connection(socket, this.db, this.lock, this.log);
        this.connections.add(conn);
        socket.on('close', () => this.connections.delete(conn));
      });
      server.maxConnections = this.maxConnections;
      server.once('error', reject);
      server.listen(port, host, () => {
        this.server = server;
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}
