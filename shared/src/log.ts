import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * One trace id follows an event batch and what it causes across processes: the agent puts a W3C
 * Trace Context `traceparent` (version 00) in the MQTT 5 user property of that name, the ingest
 * runs the batch inside `withTrace`, and every log line written inside it, awaits included,
 * carries `trace` (the alert it opens, the notification queued for it; the delivery keeps the
 * id and the worker logs its send under it again). No header parsing beyond the version-00 form.
 */
export const TRACEPARENT = 'traceparent';
const TRACEPARENT_FORM = /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const traces = new AsyncLocalStorage<string>();

/** A new `traceparent`: random trace and parent ids, sampled. */
export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

/** The trace id of a `traceparent` (or a bare 32-hex trace id); undefined for anything else. */
export function traceIdOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const id = /^[0-9a-f]{32}$/.test(value) ? value : TRACEPARENT_FORM.exec(value)?.[1];
  return id && !/^0+$/.test(id) ? id : undefined;
}

/** Runs `fn` with every log line inside it carrying `trace: traceId` (none: runs it as it is). */
export function withTrace<T>(traceId: string | undefined, fn: () => T): T {
  return traceId ? traces.run(traceId, fn) : fn();
}

/** The trace id the current code runs under, if any. */
export const currentTrace = (): string | undefined => traces.getStore();

/**
 * The one structured logger: JSON lines on stderr (stdout stays free for CLI output and
 * `--json`), a namespace per subsystem, context fields (vehicle, batch, ...) via child().
 * LOG_LEVEL: trace|debug|info|warn|error|fatal|silent, default info.
 */
/**
 * The newest log lines of this process, in memory, at most `limit` bytes (0 until a process asks
 * for them with keepRecentLogs): the agent's remote `fetchLogs` answers from here, so a
 * technician reads a vehicle's logs without a shell on it.
 */
class RecentLines {
  private lines: string[] = [];
  private bytes = 0;
  limit = 0;
  push(line: string): void {
    if (this.limit === 0) return;
    this.lines.push(line);
    this.bytes += Buffer.byteLength(line);
    while (this.bytes > this.limit && this.lines.length > 0)
      this.bytes -= Buffer.byteLength(this.lines.shift()!);
  }
  /** The newest whole lines that fit in `maxBytes`, oldest first. */
  tail(maxBytes: number): { lines: string[]; bytes: number; truncated: boolean } {
    const out: string[] = [];
    let bytes = 0;
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const n = Buffer.byteLength(this.lines[i]!);
      if (bytes + n > maxBytes) return { lines: out.reverse(), bytes, truncated: true };
      out.push(this.lines[i]!.replace(/\n$/, ''));
      bytes += n;
    }
    return { lines: out.reverse(), bytes, truncated: false };
  }
}
const recentLines = new RecentLines();

/** Keep the newest `limitBytes` of log lines in memory from now on (recentLogs reads them). */
export function keepRecentLogs(limitBytes: number): void {
  recentLines.limit = limitBytes;
}

export function recentLogs(maxBytes: number): { lines: string[]; bytes: number; truncated: boolean } {
  return recentLines.tail(maxBytes);
}

const root = pino(
  {
    level: process.env.LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['password', '*.password', 'secret', '*.secret'], censor: '[redacted]' },
    mixin: () => {
      const trace = traces.getStore();
      return trace ? { trace } : {};
    },
  },
  pino.multistream([
    { stream: pino.destination({ dest: 2, sync: true }), level: 'trace' },
    { stream: { write: (line: string) => recentLines.push(line) }, level: 'trace' },
  ]),
);

export function createLogger(namespace: string, context: Record<string, unknown> = {}): Logger {
  return root.child({ ns: namespace, ...context });
}

/** A connection URL fit for a log line: the password is replaced, the rest kept for diagnosis. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
