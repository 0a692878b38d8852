'use client';

/**
 * The dashboard pages' one way to read the API: the answer, why the latest read failed, and
 * reading again, on a change of input, on a timer or on demand.
 *
 *   input changes ──┐
 *   timer (chained) ┼──▶ read(signal) ──▶ data (the last good answer, kept when a read fails)
 *   reload() ───────┘                └──▶ error (null again after the next good answer)
 *
 * A read the page no longer needs (new input, unmounted) is aborted and its answer dropped, and of
 * two reads in flight only the later one's answer is shown. Not signed in (or the session expired)
 * goes to the sign-in page.
 */
import { startTransition, useCallback, useEffect, useRef, useState } from 'react';
import { describeError, goToSignIn, isUnauthorized } from './auth-redirect.ts';

export interface QueryOptions {
  /**
   * Read again this long after the previous read started (chained, not an interval: a slow answer
   * delays the next read instead of stacking requests). A function is asked after every read,
   * e.g. for a slower period while a live feed carries the data. Default: no timer.
   */
  refreshMs?: number | (() => number);
}

export interface Query<T> {
  /** The last good answer; null until the first arrives. */
  data: T | null;
  /** Why the latest read failed; null once one succeeds again. */
  error: string | null;
  /** Reads again now, e.g. after the page changed something or the live feed said something did. */
  reload: () => Promise<void>;
  /** Changes the data shown without reading (the pager appending a page it read). */
  update: (change: (data: T) => T) => void;
}

/**
 * Reads `read(signal)` on mount and whenever `input` changes (compared as JSON, so a new object
 * with the same filter does not read again). `read` may close over anything: the latest one runs.
 */
export function useQuery<T>(
  input: unknown,
  read: (signal: AbortSignal) => Promise<T>,
  options: QueryOptions = {},
): Query<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null }>({ data: null, error: null });
  const readRef = useRef(read);
  readRef.current = read;
  const refreshRef = useRef(options.refreshMs);
  refreshRef.current = options.refreshMs;
  const reloadRef = useRef<() => Promise<void>>(async () => {});
  const inputKey = JSON.stringify(input) ?? '';

  // biome-ignore lint/correctness/useExhaustiveDependencies: inputKey stands for the input the latest read() closes over.
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let latest = 0;

    const run = async () => {
      const id = ++latest;
      const startedAt = Date.now();
      try {
        const data = await readRef.current(controller.signal);
        if (controller.signal.aborted || id !== latest) return;
        // A transition: React renders the new answer in slices that yield to input and paint,
        // where a plain update renders a whole table in one long task.
        startTransition(() => setState({ data, error: null }));
      } catch (error) {
        if (controller.signal.aborted || id !== latest) return;
        if (isUnauthorized(error)) {
          goToSignIn();
          return;
        }
        setState((previous) => ({ data: previous.data, error: describeError(error) }));
      }
      const refresh = refreshRef.current;
      const period = typeof refresh === 'function' ? refresh() : refresh;
      clearTimeout(timer);
      if (period !== undefined) timer = setTimeout(run, Math.max(0, period - (Date.now() - startedAt)));
    };
    reloadRef.current = run;
    void run();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [inputKey]);

  const reload = useCallback(() => reloadRef.current(), []);
  const update = useCallback(
    (change: (data: T) => T) =>
      setState((previous) =>
        previous.data === null ? previous : { ...previous, data: change(previous.data) },
      ),
    [],
  );
  return { ...state, reload, update };
}

/** One page of a cursor-paginated list (the API's `page()`): null cursor on the last page. */
export interface CursorPage {
  nextCursor: string | null;
}

export interface PagedQuery<P extends CursorPage> {
  /** Every page read so far, first to last; null until the first arrives. */
  pages: P[] | null;
  error: string | null;
  /** Whether the list goes on past the pages read. */
  hasMore: boolean;
  /** Reads the next page and appends it. */
  more: () => Promise<void>;
  /** Reads the pages shown again (as many as are shown), e.g. after an alert was acknowledged. */
  reload: () => Promise<void>;
}

/** The first `count` pages (fewer when the list ends), each read with the previous one's cursor. */
export async function readFirstPages<P extends CursorPage>(
  readPage: (cursor: string | undefined, signal: AbortSignal) => Promise<P>,
  count: number,
  signal: AbortSignal,
): Promise<P[]> {
  const pages = [await readPage(undefined, signal)];
  for (let cursor = pages[0]!.nextCursor; cursor !== null && pages.length < count; ) {
    const next = await readPage(cursor, signal);
    pages.push(next);
    cursor = next.nextCursor;
  }
  return pages;
}

/**
 * A cursor-paginated list: the first page on mount and on every new `input`, the next one on
 * `more()`. A refresh reads as many pages as are shown, so the list does not shrink under the
 * reader's eyes.
 */
export function usePagedQuery<P extends CursorPage>(
  input: unknown,
  readPage: (cursor: string | undefined, signal: AbortSignal) => Promise<P>,
  options: QueryOptions = {},
): PagedQuery<P> {
  const shownRef = useRef(1);
  const [moreError, setMoreError] = useState<string | null>(null);
  const inputKey = JSON.stringify(input) ?? '';
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new input starts again from one page.
  useEffect(() => {
    shownRef.current = 1;
  }, [inputKey]);

  const query = useQuery(
    input,
    async (signal) => {
      const pages = await readFirstPages(readPage, shownRef.current, signal);
      setMoreError(null);
      return pages;
    },
    options,
  );

  const { data: pages, update } = query;
  const cursor = pages?.at(-1)?.nextCursor ?? null;
  const more = useCallback(async () => {
    if (!cursor) return;
    try {
      const next = await readPage(cursor, new AbortController().signal);
      shownRef.current += 1;
      setMoreError(null);
      update((shown) => (shown.at(-1)?.nextCursor === cursor ? [...shown, next] : shown));
    } catch (error) {
      if (isUnauthorized(error)) goToSignIn();
      else setMoreError(describeError(error));
    }
  }, [cursor, readPage, update]);

  return { pages, error: query.error ?? moreError, hasMore: cursor !== null, more, reload: query.reload };
}
