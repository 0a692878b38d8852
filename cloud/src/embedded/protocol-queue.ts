/**
 * PGlite has one session; @electric-sql/pglite-socket serves many client connections on it by
 * running their wire-protocol messages one at a time. Its own queue (0.2.17, 0.2.18) switches
 * clients between any two messages unless a transaction is open, but node-postgres sends each
 * parameterised query as an extended-protocol batch — Parse, Bind, Describe, Execute, Sync — and
 * another client's Parse/Bind in the middle of it replaces the unnamed statement and portal:
 * "portal "" does not exist", or one client reading another's rows. Seen on the Quick start
 * (the API, the ingest and the notification worker on one embedded database).
 *
 * This queue keeps a client as the owner of the session from its first message until the session
 * is idle again: until the server's ReadyForQuery says 'I'. So an extended batch, a transaction
 * and a COPY each run whole; other clients' messages wait in arrival order.
 */
import type { PGlite } from '@electric-sql/pglite';

interface Pending {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: unknown) => void;
}

const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I'
const TERMINATE = 0x58; // 'X'
/** A Sync message: ends a client's unfinished batch (and an error state) when it goes away. */
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

/** The socket server's queue interface (what its connection handlers call). */
export class ProtocolQueue {
  private readonly queue: Pending[] = [];
  private processing = false;
  /** The client whose batch, transaction or COPY is under way; null when the session is idle. */
  private owner: number | null = null;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.process();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  /** A client went away: its queued messages are dropped. */
  clearQueueForHandler(handlerId: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const p = this.queue[i]!;
      if (p.handlerId !== handlerId) continue;
      this.queue.splice(i, 1);
      p.reject(new Error('client disconnected'));
    }
  }

  /** ... and what it left open is closed, so the next client finds an idle session. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    // (exec takes PGlite's locks itself: it must run outside runExclusive.) The owner stays set
    // until the session is clean, so no other client's message runs in between.
    await this.db.runExclusive(() => this.db.execProtocolRaw(SYNC));
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.owner = null;
    await this.process();
  }

  private async process(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const next = this.owner === null ? 0 : this.queue.findIndex((p) => p.handlerId === this.owner);
        // The owner's next message is still on its way: the others wait for it.
        if (next === -1) break;
        const p = this.queue.splice(next, 1)[0]!;
        let bytes = 0;
        // The last 6 bytes the server sent: a ReadyForQuery ends with them when the batch is done.
        let tail: Uint8Array = new Uint8Array(0);
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(p.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                tail = lastBytes(tail, data, 6);
                p.onData(data);
              },
            }),
          );
        } catch (err) {
          this.owner = null;
          p.reject(err);
          continue;
        }
        const idle = tail.length === 6 && tail[0] === READY_FOR_QUERY && tail[5] === IDLE;
        this.owner = idle || p.message[0] === TERMINATE ? null : p.handlerId;
        p.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  }
}

function lastBytes(previous: Uint8Array, data: Uint8Array, n: number): Uint8Array {
  if (data.length >= n) return data.slice(data.length - n);
  const joined = new Uint8Array(previous.length + data.length);
  joined.set(previous);
  joined.set(data, previous.length);
  return joined.slice(Math.max(0, joined.length - n));
}
