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
  pino.destination({ dest: 2, sync: true }),
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
