import { type Logger, pino } from 'pino';

export type { Logger };

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
