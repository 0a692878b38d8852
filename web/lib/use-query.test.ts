import { describe, expect, it } from 'vitest';
import { readFirstPages } from './use-query.ts';

/** A list of `total` numbers served `size` per page, the cursor being the next index. */
function list(total: number, size: number) {
  const cursors: (string | undefined)[] = [];
  const readPage = async (cursor: string | undefined) => {
    cursors.push(cursor);
    const start = cursor === undefined ? 0 : Number(cursor);
    const items = Array.from({ length: Math.min(size, total - start) }, (_, i) => start + i);
    const end = start + items.length;
    return { items, nextCursor: end < total ? String(end) : null };
  };
  return { readPage, cursors };
}

describe('readFirstPages (a refresh of a list the pager has extended)', () => {
  const signal = new AbortController().signal;

  it('reads as many pages as are shown, each with the cursor of the one before', async () => {
    const { readPage, cursors } = list(10, 3);
    const pages = await readFirstPages(readPage, 3, signal);
    expect(pages.flatMap((p) => p.items)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(cursors).toEqual([undefined, '3', '6']);
    expect(pages.at(-1)!.nextCursor).toBe('9');
  });

  it('stops where the list ends, even when more pages were shown before', async () => {
    const { readPage, cursors } = list(4, 3);
    const pages = await readFirstPages(readPage, 5, signal);
    expect(pages.flatMap((p) => p.items)).toEqual([0, 1, 2, 3]);
    expect(cursors).toEqual([undefined, '3']);
    expect(pages.at(-1)!.nextCursor).toBeNull();
  });

  it('reads one page for a list not paged yet', async () => {
    const { readPage, cursors } = list(10, 3);
    expect(await readFirstPages(readPage, 1, signal)).toHaveLength(1);
    expect(cursors).toEqual([undefined]);
  });
});
