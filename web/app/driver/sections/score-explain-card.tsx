'use client';

/**
 * The driver's fair score (scores.get, scores.explain): the rolling 4-week score and percentile in
 * their peer group, then per metric the points it cost with the events behind them (time, place,
 * the speed around it), each with a dispute button; and the history of their disputes
 * (scores.disputes) with the manager's answers. A disputed event is left out while under review.
 * All three come with the home read (driverHome.get); a dispute filed reads the home again.
 */
import { memo, startTransition, useCallback, useEffect, useState } from 'react';
import { formatPosition } from '../../../lib/format.ts';
import { humanize } from '../../../lib/labels.ts';
import { driverApi } from '../driver-api.ts';
import { useDriverText } from '../i18n/driver-text-context.tsx';
import type { Home, Loaded } from '../use-driver-home.ts';
import { FreshnessLine } from './freshness-line.tsx';

type Explained = NonNullable<Home['explain']>;
type ExplainedEvent = Explained['metrics'][number]['events'][number];

/** A small inline speed trace (SVG), with its figures in the accessible name. */
function SpeedTrace({ trace }: { trace: ExplainedEvent['speedTrace'] }) {
  const { t, num, speed, units } = useDriverText();
  const pts = trace.filter((p) => p.speedKmh !== null) as { ts: number; speedKmh: number }[];
  if (pts.length < 2) return <span>{t('explain.noTrace')}</span>;
  const t0 = pts[0]!.ts;
  const span = Math.max(1, pts.at(-1)!.ts - t0);
  const max = Math.max(10, ...pts.map((p) => p.speedKmh));
  const d = pts
    .map((p, i) => `${i ? 'L' : 'M'}${((p.ts - t0) / span) * 100},${30 - (p.speedKmh / max) * 28}`)
    .join(' ');
  const speeds = pts.map((p) => p.speedKmh);
  const label = t('explain.trace', {
    min: num(speed(Math.min(...speeds))),
    max: num(speed(Math.max(...speeds))),
    unit: t(units.distance === 'mi' ? 'unit.mph' : 'unit.kmh'),
    seconds: num(span / 1000),
  });
  return (
    <svg viewBox="0 0 100 32" width="120" height="32" role="img" aria-label={label} className="speed-trace">
      <path d={d} fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}

function DisputeButton({ event, onFiled }: { event: ExplainedEvent; onFiled: (m: string) => void }) {
  const { t } = useDriverText();
  const [open, setOpen] = useState(false);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = `dispute-${event.vehicleId}-${event.eventId}`;
  const send = useCallback(async () => {
    setError(null);
    try {
      await driverApi.scores.dispute.mutate({ vehicleId: event.vehicleId, eventId: event.eventId, comment });
      setOpen(false);
      onFiled(t('explain.disputeSent'));
    } catch (err) {
      setError((err as Error).message);
    }
  }, [comment, event, onFiled, t]);
  if (event.dispute && event.dispute.status !== 'rejected')
    return (
      <span className="badge">
        {t('explain.disputeState', { status: t(`dispute.${event.dispute.status}`) })}
      </span>
    );
  if (!open)
    return (
      <button type="button" className="button--secondary" onClick={() => setOpen(true)}>
        {t('explain.disputeButton')}
      </button>
    );
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <label htmlFor={id}>{t('explain.why')}</label>
      <textarea
        id={id}
        value={comment}
        onChange={(e) => setComment(e.target.value)}
        maxLength={1000}
        required
      />
      <button type="submit">{t('explain.send')}</button>
      {error ? (
        <p className="error-text" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}

/**
 * Per metric, the points it cost and the events behind them. Memoised: the page's periodic read
 * re-renders the card (its "updated" line), not these lists when their data did not change.
 */
const ExplainedMetrics = memo(function ExplainedMetrics({
  metrics,
  onFiled,
}: {
  metrics: Explained['metrics'] | null;
  onFiled: (m: string) => void;
}) {
  const { t, num, dateTime, term } = useDriverText();
  const lost = (metrics ?? []).filter((m) => m.pointsLost > 0.05 || m.events.length > 0);
  if (lost.length === 0) return null;
  return (
    <>
      <h3>{t('explain.where')}</h3>
      <ul className="score-explain">
        {lost.map((m) => (
          <li key={m.metric}>
            <strong>
              {t('explain.pointsLost', {
                label: term('metric', m.metric, m.label),
                points: num(m.pointsLost, 1),
              })}
            </strong>{' '}
            ({m.leftOut ? t('explain.notCounted') : t('explain.events', { n: m.eventCount })})
            {m.events.length > 0 ? (
              <ul>
                {m.events.map((e) => (
                  <li key={`${e.vehicleId}-${e.eventId}`} data-testid="scored-event">
                    {term('event', e.type, humanize(e.type))}, {dateTime(e.start)}, {e.vehicleId}
                    {e.lat !== null ? `, ${t('explain.at', { position: formatPosition(e.lat, e.lon) })}` : ''}
                    {e.counted ? '' : ` ${t('explain.leftOut')}`} <SpeedTrace trace={e.speedTrace} />{' '}
                    <DisputeButton event={e} onFiled={onFiled} />
                  </li>
                ))}
              </ul>
            ) : null}
          </li>
        ))}
      </ul>
    </>
  );
});

export function ScoreExplainCard({
  score,
  explain,
  disputes,
  online,
  onFiled,
}: {
  /** Null until the home read answers; its data null when it came without the score. */
  score: Loaded<Home['rollingScore']> | null;
  explain: Home['explain'];
  disputes: Home['disputes'];
  online: boolean;
  /** Reads the home again (the event's state, the score without it, the dispute listed). */
  onFiled: () => Promise<void>;
}) {
  const { t, num, distance, dateTime, term } = useDriverText();
  const [message, setMessage] = useState<string | null>(null);
  const filed = useCallback(
    (m: string) => {
      setMessage(m);
      void onFiled();
    },
    [onFiled],
  );
  const s = score?.data ?? null;
  // The events behind the points (each with its speed trace and dispute button: the largest part
  // of the page, below the fold) are shown in a render and commit of their own, after the answer's
  // (a phone's main thread: one long commit becomes two shorter ones).
  const [shown, setShown] = useState<Home['explain']>(null);
  useEffect(() => startTransition(() => setShown(explain)), [explain]);
  return (
    <section aria-labelledby="fair-score-title" className="card">
      <h2 id="fair-score-title">{t('explain.title')}</h2>
      {s === null ? (
        <p>{score ? t('explain.unavailable') : t('common.loadingCap')}</p>
      ) : s.score === null ? (
        <p data-testid="rolling-score">
          {t('explain.noScore', { driven: distance(s.km), min: distance(s.minKm) })}
        </p>
      ) : (
        <p data-testid="rolling-score">
          {t('explain.score', { score: num(s.score, 1), pct: num(s.percentile), group: s.peerGroup ?? '—' })}{' '}
          <a href="/leaderboard">{t('explain.leaderboard')}</a>
        </p>
      )}
      <FreshnessLine of={score?.data ? score : null} online={online} />
      <div role="status" aria-live="polite">
        {message ? <p className="notice">{message}</p> : null}
      </div>
      <ExplainedMetrics metrics={shown?.metrics ?? null} onFiled={filed} />
      {disputes && disputes.length > 0 ? (
        <>
          <h3>{t('explain.myDisputes')}</h3>
          <ul data-testid="my-disputes">
            {disputes.map((d) => (
              <li key={d.id}>
                {t('explain.disputeLine', {
                  type: term('event', d.eventType, humanize(d.eventType)),
                  time: dateTime(d.eventStart),
                  comment: d.comment,
                  status: t(`dispute.${d.status}`),
                })}
                {d.decisionComment ? ` (${d.decidedBy ?? t('explain.manager')}: “${d.decisionComment}”)` : ''}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
