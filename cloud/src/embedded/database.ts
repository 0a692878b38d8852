import net from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';
import type { Logger } from '@fleet/shared/log';

/**
 * The embedded database: PGlite (PostgreSQL compiled to WASM) served on a TCP socket, so the
 * cloud talks to it with the same `pg` code it uses for a real PostgreSQL. `dataDir` keeps the
 * data between runs; omit it for an in-memory database.
 *
 *   pg connection 1 ─┐  PGLiteSocketHandler (frames   ┌──────────────────────┐
 *   pg connection 2 ─┼─ the wire protocol per socket) ─▶ ProtocolUnitQueue  ├─▶ PGlite (one session)
 *   pg connection N ─┘                                 └──────────────────────┘
 *
 * PGlite has one session, so the connections take turns. pglite-socket's own queue hands them
 * over message by message, keeping a connection only while it is inside a transaction; an
 * extended-protocol query (Parse, Bind, Execute, Sync: every parameterised `pg` query) is several
 * messages, so under load a second connection's Parse landed between another's Parse and Bind and
 * both queries failed ("bind message supplies 1 parameters, but prepared statement "" requires
 * 2": the unnamed statement is per session). The queue here hands the session over only at the end
 * of a request (Sync, a simple Query, the startup message) and outside a transaction.
 */
export async function startEmbeddedDatabase(opts: {
  host: string;
  port: number;
  dataDir?: string;
  log: Logger;
  /** [1...100] client connections at once, default 20 (the cloud's pool is 10). */
  maxConnections?: number;
}) {
  const db = await PGlite.create(opts.dataDir);
  const queue = new ProtocolUnitQueue(db, opts.log);
  const maxConnections = opts.maxConnections ?? 20;
  const handlers = new Set<PGLiteSocketHandler>();
  const server = net.createServer((socket) => {
    if (handlers.size >= maxConnections) {
      opts.log.warn({ maxConnections }, 'embedded PostgreSQL: too many connections; refused');
      socket.destroy();
      return;
    }
    const handler = new PGLiteSocketHandler({
      // Its type is pglite-socket's (unexported) queue class; ProtocolUnitQueue has its methods.
      queryQueue: queue as unknown as ConstructorParameters<typeof PGLiteSocketHandler>[0]['queryQueue'],
      closeOnDetach: true,
    });
    handlers.add(handler);
    socket.once('close', () => handlers.delete(handler));
    handler.attach(socket).catch((err: unknown) => {
      opts.log.warn({ err: (err as Error).message }, 'embedded PostgreSQL: connection not attached');
      handlers.delete(handler);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `postgres://postgres@${opts.host}:${opts.port}/postgres`;
  opts.log.info({ url, dataDir: opts.dataDir ?? 'memory' }, 'embedded PostgreSQL (PGlite) listening');
  return {
    url,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const h of handlers) void h.detach(true);
      });
      await db.close();
    },
  };
}

interface Queued {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: Error) => void;
}

/** Frontend message types that end a request: the session may go to another connection after them. */
const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'
/** Protocol 3.0 in a startup message (it has no type byte: length, then the version). */
const PROTOCOL_3 = 196_608;

const endsRequest = (m: Uint8Array): boolean => {
  const type = m[0];
  if (type === SYNC || type === QUERY || type === TERMINATE) return true;
  // The startup message: int32 length, int32 protocol version.
  return m.length >= 8 && new DataView(m.buffer, m.byteOffset, m.byteLength).getInt32(4) === PROTOCOL_3;
};

/**
 * One message at a time into PGlite's single session, in arrival order, except that a connection
 * in the middle of a request or of a transaction keeps the session until it is done. The methods
 * are the ones PGLiteSocketHandler calls on pglite-socket's own queue.
 */
export class ProtocolUnitQueue {
  private readonly queue: Queued[] = [];
  private processing = false;
  /** The connection that holds the session (mid-request or in a transaction), or null. */
  private owner: number | null = null;

  constructor(
    private readonly db: PGlite,
    private readonly log: Logger,
  ) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.process();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  /** The connection went away: its waiting messages are dropped. */
  clearQueueForHandler(handlerId: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const q = this.queue[i]!;
      if (q.handlerId !== handlerId) continue;
      this.queue.splice(i, 1);
      q.reject(new Error('connection closed'));
    }
  }

  /** The connection went away holding the session: its transaction is rolled back, the others go on. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK').catch(() => {});
    this.owner = null;
    void this.process();
  }

  private async process(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      for (;;) {
        const i = this.owner === null ? 0 : this.queue.findIndex((q) => q.handlerId === this.owner);
        // The owner's next message has not arrived yet: the others wait for it.
        if (i < 0 || this.queue.length === 0) return;
        const q = this.queue.splice(i, 1)[0]!;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(q.message, {
              onRawData: (data) => {
                bytes += data.length;
                q.onData(data);
              },
            }),
          );
        } catch (err) {
          // A protocol-level failure (SQL errors come back as ErrorResponse data): this
          // connection's request is over; the session goes on serving the others.
          this.log.warn({ err: (err as Error).message }, 'embedded PostgreSQL: message failed');
          this.owner = this.db.isInTransaction() ? q.handlerId : null;
          q.reject(err as Error);
          continue;
        }
        this.owner = this.db.isInTransaction() || !endsRequest(q.message) ? q.handlerId : null;
        q.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  }
}
