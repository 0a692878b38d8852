'use client';

/**
 * "Export detail (CSV)": every raw sample of the builder's period and vehicles, which can be a year
 * of 1,000 vehicles, so the browser never holds it: `reportSchedules.exportLink` gives a signed
 * 15-minute link, the browser downloads from it (the cloud streams the file as it reads it), and
 * this shows the stream's progress from the export's run row (rows done of the planner's
 * estimate), read every second until the rows stop coming.
 */
import { useEffect, useRef, useState } from 'react';
import { describeError } from '../../lib/auth-redirect.ts';
import { trpc } from '../../lib/trpc.ts';

/** Polls after the last change before the stream counts as finished (the cloud reports every second). */
const QUIET_POLLS = 4;

type State =
  | { phase: 'idle' }
  | { phase: 'preparing' }
  | { phase: 'streaming' | 'finished'; runId: number; rowsDone: number; rowsTotal: number | null }
  | { phase: 'failed'; error: string };

export function DetailExport({
  span,
  canWatch,
}: {
  /** The builder's period and vehicle filter at the moment of the click. */
  span: () => { from?: number | undefined; to?: number | undefined; vehicleIds?: string[] | undefined };
  /** Whether the user may read runs (`reports:schedule`) to watch the progress. */
  canWatch: boolean;
}) {
  const [state, setState] = useState<State>({ phase: 'idle' });
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);

  const watch = (runId: number, quiet = 0, last = -1) => {
    timer.current = setTimeout(async () => {
      try {
        const run = (await trpc.reportSchedules.runs.query({ limit: 20 })).find((r) => r.id === runId);
        if (!run) return;
        const done = run.rowsTotal !== null && run.rowsDone >= run.rowsTotal;
        const still = run.rowsDone === last ? quiet + 1 : 0;
        const finished = done || still >= QUIET_POLLS;
        setState({
          phase: finished ? 'finished' : 'streaming',
          runId,
          rowsDone: run.rowsDone,
          rowsTotal: run.rowsTotal,
        });
        if (!finished) watch(runId, still, run.rowsDone);
      } catch {
        // The download goes on without us: stop watching.
      }
    }, 1000);
  };

  const start = async () => {
    clearTimeout(timer.current);
    const { from, to, vehicleIds } = span();
    if (from === undefined || to === undefined) {
      setState({ phase: 'failed', error: 'Choose the period (both dates) first.' });
      return;
    }
    setState({ phase: 'preparing' });
    try {
      const link = await trpc.reportSchedules.exportLink.mutate({
        report: { kind: 'detail', format: 'csv', params: vehicleIds?.length ? { vehicleIds } : {} },
        from,
        to,
      });
      setState({ phase: 'streaming', runId: link.runId, rowsDone: 0, rowsTotal: null });
      // A plain link: the browser saves the stream to disk as it arrives.
      const a = document.createElement('a');
      a.href = link.url;
      a.download = '';
      document.body.append(a);
      a.click();
      a.remove();
      if (canWatch) watch(link.runId);
    } catch (err) {
      setState({ phase: 'failed', error: describeError(err) });
    }
  };

  const busy = state.phase === 'preparing' || state.phase === 'streaming';
  return (
    <section aria-labelledby="detail-export-heading" data-section="detail-export">
      <h2 id="detail-export-heading">Detail export</h2>
      <p>
        Every raw sample of the period and vehicles chosen above, as CSV. Large exports stream: the download
        starts at once and grows while the rows are read.
      </p>
      <button type="button" onClick={() => void start()} disabled={state.phase === 'preparing'}>
        Export detail (CSV)
      </button>
      <div role="status" aria-live="polite" data-export-phase={state.phase}>
        {state.phase === 'preparing' && <p>Preparing the export…</p>}
        {(state.phase === 'streaming' || state.phase === 'finished') && (
          <p>
            {state.phase === 'finished' ? 'Export streamed: ' : 'Download started: '}
            <span data-rows-done>{state.rowsDone.toLocaleString('en-GB')}</span> rows
            {state.rowsTotal !== null
              ? ` of about ${state.rowsTotal.toLocaleString('en-GB')} (estimate)`
              : ''}
            .{' '}
            {canWatch && (
              <progress
                aria-label="Detail export progress"
                max={Math.max(state.rowsTotal ?? 0, state.rowsDone, 1)}
                value={busy && state.rowsTotal === null ? undefined : state.rowsDone}
              />
            )}
          </p>
        )}
      </div>
      {state.phase === 'failed' && (
        <p className="error-text" role="alert">
          {state.error}
        </p>
      )}
    </section>
  );
}
