'use client';

/**
 * The driver's fair score (scores.get, scores.explain): the rolling 4-week score and percentile in
 * their peer group, then per metric the points it cost with the events behind them (time, place,
 * the speed around it), each with a dispute button; and the history of their disputes
 * (scores.disputes) with the manager's answers. A disputed event is left out while under review.
 */
import { useCallback, useState } from 'react';
import { formatNumber, formatPosition, formatUtcDateTime } from '../../../lib/format.ts';
import { humanize } from '../../../lib/labels.ts';
import { useQuery } from '../../../lib/use-query.ts';
import { driverApi } from '../driver-api.ts';

type Explained = Awaited<ReturnType<typeof driverApi.scores.explain.query>>;
type ExplainedEvent = Explained['metrics'][number]['events'][number];

/** A small inline speed trace (SVG), with its figures in the accessible name. */
function SpeedTrace({ trace }: { trace: ExplainedEvent['speedTrace'] }) {
  const pts = trace.filter((p) => p.speedKmh !== null) as { ts: number; speedKmh: number }[];
  if (pts.length < 2) return <span>no speed trace</span>;
  const t0 = pts[0]!.ts;
  const span = Math.max(1, pts.at(-1)!.ts - t0);
  const max = Math.max(10, ...pts.map((p) => p.speedKmh));
  const d = pts
    .map((p, i) => `${i ? 'L' : 'M'}${((p.ts - t0) / span) * 100},${30 - (p.speedKmh / max) * 28}`)
    .join(' ');
  const speeds = pts.map((p) => p.speedKmh);
  const label = `Speed around the event: ${formatNumber(Math.min(...speeds))} to ${formatNumber(Math.max(...speeds))} km/h over ${formatNumber(span / 1000)} s`;
  return (
    <svg viewBox="0 0 100 32" width="120" height="32" role="img" aria-label={label} className="speed-trace">
      <path d={d} fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}

function DisputeButton({ event, onFiled }: { event: ExplainedEvent; onFiled: (m: string) => void }) {
  const [open, setOpen] = useState(false);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = `dispute-${event.vehicleId}-${event.eventId}`;
  const send = useCallback(async () => {
    setError(null);
    try {
      await driverApi.scores.dispute.mutate({ vehicleId: event.vehicleId, eventId: event.eventId, comment });
      setOpen(false);
      onFiled(
        `Dispute sent: the ${humanize(event.type).toLowerCase()} is left out while your manager reviews it.`,
      );
    } catch (err) {
      setError((err as Error).message);
    }
  }, [comment, event, onFiled]);
  if (event.dispute && event.dispute.status !== 'rejected')
    return <span className="badge">Dispute {event.dispute.status}</span>;
  if (!open)
    return (
      <button type="button" className="button--secondary" onClick={() => setOpen(true)}>
        Dispute this event
      </button>
    );
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <label htmlFor={id}>Why is this event wrong?</label>
      <textarea
        id={id}
        value={comment}
        onChange={(e) => setComment(e.target.value)}
        maxLength={1000}
        required
      />
      <button type="submit">Send dispute</button>
      {error ? (
        <p className="error-text" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}

export function ScoreExplainCard() {
  const [message, setMessage] = useState<string | null>(null);
  const score = useQuery('score', (signal) => driverApi.scores.get.query({}, { signal }));
  const explain = useQuery('explain', (signal) => driverApi.scores.explain.query({}, { signal }));
  const disputes = useQuery('disputes', (signal) => driverApi.scores.disputes.query({}, { signal }));
  const filed = useCallback(
    (m: string) => {
      setMessage(m);
      void score.reload();
      void explain.reload();
      void disputes.reload();
    },
    [score, explain, disputes],
  );
  const s = score.data;
  const lost = (explain.data?.metrics ?? []).filter((m) => m.pointsLost > 0.05 || m.events.length > 0);
  return (
    <section aria-labelledby="fair-score-title" className="card">
      <h2 id="fair-score-title">My score, last 4 weeks</h2>
      {s === null ? (
        <p>{score.error ? 'Score unavailable.' : 'Loading…'}</p>
      ) : s.score === null ? (
        <p data-testid="rolling-score">
          No score yet: {formatNumber(s.km)} of {formatNumber(s.minKm)} km driven in the window.
        </p>
      ) : (
        <p data-testid="rolling-score">
          Score {formatNumber(s.score, 1)} out of 100; better than {formatNumber(s.percentile)}% of your peer
          group ({s.peerGroup}). <a href="/leaderboard">Leaderboard</a>
        </p>
      )}
      <div role="status" aria-live="polite">
        {message ? <p className="notice">{message}</p> : null}
      </div>
      {lost.length > 0 ? (
        <>
          <h3>Where the points went</h3>
          <ul className="score-explain">
            {lost.map((m) => (
              <li key={m.metric}>
                <strong>
                  {m.label}: −{formatNumber(m.pointsLost, 1)} points
                </strong>{' '}
                ({m.leftOut ? 'not counted' : `${formatNumber(m.eventCount)} events`})
                {m.events.length > 0 ? (
                  <ul>
                    {m.events.map((e) => (
                      <li key={`${e.vehicleId}-${e.eventId}`} data-testid="scored-event">
                        {humanize(e.type)}, {formatUtcDateTime(e.start)}, {e.vehicleId}
                        {e.lat !== null ? `, at ${formatPosition(e.lat, e.lon)}` : ''}
                        {e.counted ? '' : ' (left out)'} <SpeedTrace trace={e.speedTrace} />{' '}
                        <DisputeButton event={e} onFiled={filed} />
                      </li>
                    ))}
                  </ul>
                ) : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {disputes.data && disputes.data.length > 0 ? (
        <>
          <h3>My disputes</h3>
          <ul data-testid="my-disputes">
            {disputes.data.map((d) => (
              <li key={d.id}>
                {humanize(d.eventType)} of {formatUtcDateTime(d.eventStart)}: “{d.comment}” — {d.status}
                {d.decisionComment ? ` (${d.decidedBy ?? 'manager'}: “${d.decisionComment}”)` : ''}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
