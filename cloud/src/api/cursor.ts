import { TRPCError } from '@trpc/server';
import { z } from 'zod';

/**
 * Opaque pagination cursors: the sort key of the last row of a page, as base64url JSON. Clients
 * pass it back unchanged; a cursor that does not decode to the expected shape is BAD_REQUEST,
 * never a database error. Pages are ordered by a unique key (e.g. ts DESC, id DESC), so rows with
 * equal timestamps are neither repeated nor skipped between pages.
 */
export const CursorInput = z.string().max(512).optional();

export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, shape: z.ZodType<T>): T | null {
  if (cursor === undefined) return null;
  try {
    return shape.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'invalid cursor' });
  }
}

/** `rows` fetched with LIMIT limit + 1: the page, and the cursor of its last row when more follow. */
export function page<R>(rows: R[], limit: number, keyOf: (row: R) => unknown) {
  const items = rows.slice(0, limit);
  return {
    items,
    nextCursor: rows.length > limit ? encodeCursor(keyOf(items[items.length - 1]!)) : null,
  };
}

/** Epoch ms bounds shared by range inputs (2000-01-01 ... 2100-01-01). */
export const EpochMs = z.number().int().min(946_684_800_000).max(4_102_444_800_000);

/**
 * Checks an input's optional `from`/`to` (epoch ms, [from, to)) as one range of at most `maxDays`:
 * a longer or inverted range is BAD_REQUEST (rollups and bounded spans keep any answer small).
 */
export function rangeCheck(maxDays: number) {
  return (r: { from?: number | undefined; to?: number | undefined }, ctx: z.RefinementCtx) => {
    if (r.from === undefined || r.to === undefined) return;
    if (r.from >= r.to) ctx.addIssue({ code: 'custom', message: 'from must be before to', path: ['from'] });
    else if (r.to - r.from > maxDays * 86_400_000)
      ctx.addIssue({ code: 'custom', message: `range longer than ${maxDays} days`, path: ['to'] });
  };
}
