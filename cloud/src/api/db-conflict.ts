import { TRPCError } from '@trpc/server';

/** PostgreSQL's answers for a rule the database keeps (one name, one plate, one current driver). */
const CONFLICTS = new Set(['23505', '23P01']);

/**
 * Runs `fn`; a unique or exclusion violation becomes CONFLICT with `message`, so a rule the
 * database enforces reads as a refusal, not as a server error. The transaction is over then: the
 * caller's inTenant() rolls it back.
 */
export async function conflictAs<T>(message: (detail: string) => string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code && CONFLICTS.has(code))
      throw new TRPCError({ code: 'CONFLICT', message: message((err as Error).message), cause: err });
    throw err;
  }
}
