'use client';

/**
 * Challenges (issue 19 §3): managers create them and read every participant's standing (live
 * until the end, frozen after it); a driver sees their own standing and their team's.
 */
import { type FormEvent, useState } from 'react';
import { DataTable, numeric } from '../../components/data-table.tsx';
import { ChoiceField, InputField } from '../../components/form-field.tsx';
import { PageMessages } from '../../components/page-messages.tsx';
import { formErrorsOf } from '../../lib/field-errors.ts';
import { formatNumber } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { usePermissions } from '../../lib/use-permissions.ts';
import { useQuery } from '../../lib/use-query.ts';

type Metric = 'distance_km' | 'harsh_per_100km' | 'speeding_share' | 'idle_share';
const METRICS: readonly (readonly [Metric, string])[] = [
  ['harsh_per_100km', 'Harsh events per 100 km'],
  ['idle_share', 'Share of engine time idling (%)'],
  ['speeding_share', 'Share of driving time speeding (%)'],
  ['distance_km', 'Distance (km)'],
];
const DIRECTIONS = [
  ['at_most', 'At most the target'],
  ['at_least', 'At least the target'],
] as const;
const KINDS = [
  ['individual', 'Individual'],
  ['team', 'Team (vehicle groups)'],
] as const;
const STATES: Record<string, string> = {
  upcoming: 'Upcoming',
  running: 'Running',
  ended: 'Ended, results pending',
  final: 'Final',
};
const metricLabel = (m: string) => METRICS.find(([v]) => v === m)?.[1] ?? m;
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

interface Draft {
  name: string;
  kind: 'individual' | 'team';
  metric: Metric;
  direction: 'at_least' | 'at_most';
  target: string;
  minKm: string;
  timeZone: string;
  startsLocal: string;
  endsLocal: string;
  rewardPoints: string;
}
const EMPTY: Draft = {
  name: '',
  kind: 'individual',
  metric: 'harsh_per_100km',
  direction: 'at_most',
  target: '',
  minKm: '100',
  timeZone: 'UTC',
  startsLocal: '',
  endsLocal: '',
  rewardPoints: '50',
};

export function ChallengesPage() {
  const permissions = usePermissions(true);
  const canManage = permissions?.has('challenges:manage') ?? false;
  const list = useQuery(null, (signal) => trpc.challenges.list.query(undefined, { signal }));
  const [selected, setSelected] = useState<number | null>(null);
  const [draft, setDraft] = useState<Draft>(() => ({ ...EMPTY, timeZone: browserZone() }));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string | null>(null);
  const set = (k: keyof Draft) => (v: string) => setDraft((d) => ({ ...d, [k]: v }));

  const create = async (e: FormEvent) => {
    e.preventDefault();
    const missing: Record<string, string> = {};
    if (!draft.name.trim()) missing.name = 'Enter a name.';
    if (draft.target.trim() === '' || Number.isNaN(Number(draft.target))) missing.target = 'Enter a number.';
    if (!draft.startsLocal) missing.startsLocal = 'Choose the start.';
    if (!draft.endsLocal) missing.endsLocal = 'Choose the end.';
    setFieldErrors(missing);
    if (Object.keys(missing).length > 0) return;
    try {
      const made = await trpc.challenges.create.mutate({
        name: draft.name.trim(),
        kind: draft.kind,
        metric: draft.metric,
        direction: draft.direction,
        target: Number(draft.target),
        minKm: Number(draft.minKm || 0),
        timeZone: draft.timeZone,
        startsLocal: draft.startsLocal.slice(0, 16),
        endsLocal: draft.endsLocal.slice(0, 16),
        rewardPoints: Number(draft.rewardPoints || 0),
      });
      setMessage(`Challenge “${made.name}” created.`);
      setDraft({ ...EMPTY, timeZone: draft.timeZone });
      setError(null);
      await list.reload();
    } catch (err) {
      const f = formErrorsOf(err);
      setFieldErrors(f.fields);
      if (f.form) setError(f.form);
    }
  };

  return (
    <>
      <PageMessages message={message} error={error} />
      {canManage ? (
        <form onSubmit={create} noValidate aria-label="New challenge">
          <fieldset className="register-form">
            <legend>New challenge</legend>
            <InputField
              id="ch-name"
              label="Name"
              value={draft.name}
              onChange={set('name')}
              error={fieldErrors.name}
              maxLength={120}
            />
            <ChoiceField
              id="ch-kind"
              label="Who takes part"
              value={draft.kind}
              onChange={set('kind')}
              options={KINDS}
            />
            <ChoiceField
              id="ch-metric"
              label="Metric"
              value={draft.metric}
              onChange={set('metric')}
              options={METRICS}
            />
            <ChoiceField
              id="ch-direction"
              label="Goal"
              value={draft.direction}
              onChange={set('direction')}
              options={DIRECTIONS}
            />
            <InputField
              id="ch-target"
              label="Target"
              inputMode="decimal"
              value={draft.target}
              onChange={set('target')}
              error={fieldErrors.target}
            />
            <InputField
              id="ch-min-km"
              label="Minimum distance to take part (km)"
              inputMode="decimal"
              value={draft.minKm}
              onChange={set('minKm')}
              error={fieldErrors.minKm}
            />
            <InputField
              id="ch-zone"
              label="Time zone"
              value={draft.timeZone}
              onChange={set('timeZone')}
              error={fieldErrors.timeZone}
            />
            <InputField
              id="ch-start"
              label="Starts (local time)"
              type="datetime-local"
              value={draft.startsLocal}
              onChange={set('startsLocal')}
              error={fieldErrors.startsLocal}
            />
            <InputField
              id="ch-end"
              label="Ends (local time)"
              type="datetime-local"
              value={draft.endsLocal}
              onChange={set('endsLocal')}
              error={fieldErrors.endsLocal}
            />
            <InputField
              id="ch-points"
              label="Points for meeting the target"
              inputMode="numeric"
              value={draft.rewardPoints}
              onChange={set('rewardPoints')}
              error={fieldErrors.rewardPoints}
            />
            <p className="actions">
              <button type="submit">Create challenge</button>
            </p>
          </fieldset>
        </form>
      ) : null}
      {list.error && <p className="error-text">Could not load the challenges: {list.error}</p>}
      {list.data &&
        (list.data.items.length === 0 ? (
          <p>No challenges yet.</p>
        ) : (
          <DataTable
            data-table="challenges"
            caption="Challenges, newest start first"
            columns={['Challenge', 'Metric', 'Goal', 'Window (local)', 'State', 'Standings']}
          >
            {list.data.items.map((c) => (
              <tr key={c.id} data-challenge-id={c.id}>
                <th scope="row">{c.name}</th>
                <td>
                  {metricLabel(c.metric)}
                  {c.kind === 'team' ? ' (teams)' : ''}
                </td>
                <td>
                  {c.direction === 'at_most' ? '≤' : '≥'} {formatNumber(c.target, 1)}, from{' '}
                  {formatNumber(c.minKm)} km
                </td>
                <td>
                  {c.startsLocal.replace('T', ' ')} to {c.endsLocal.replace('T', ' ')} ({c.timeZone})
                </td>
                <td>{STATES[c.state] ?? c.state}</td>
                <td>
                  <button type="button" className="button--secondary" onClick={() => setSelected(c.id)}>
                    Show<span className="visually-hidden"> standings of {c.name}</span>
                  </button>
                </td>
              </tr>
            ))}
          </DataTable>
        ))}
      {selected !== null ? <Standings challengeId={selected} /> : null}
    </>
  );
}

function Standings({ challengeId }: { challengeId: number }) {
  const progress = useQuery(challengeId, (signal) =>
    trpc.challenges.progress.query({ challengeId }, { signal }),
  );
  const p = progress.data;
  if (!p)
    return progress.error ? (
      <p className="error-text">Could not load the standings: {progress.error}</p>
    ) : (
      <p>Loading…</p>
    );
  const digits = p.challenge.metric === 'distance_km' ? 0 : 2;
  return (
    <section aria-labelledby="standings-title">
      <h2 id="standings-title">{p.challenge.name}</h2>
      <p>
        {p.frozen
          ? 'Final results, frozen at the end (data that arrives later does not change them).'
          : `Live progress up to ${new Date(p.asOf).toLocaleString()}; results are frozen ${formatNumber(p.challenge.graceMinutes)} minutes after the end.`}{' '}
        {formatNumber(p.ranked)} of {formatNumber(p.participants)} participants ranked.
      </p>
      {p.standings.length === 0 ? (
        <p>No standings yet.</p>
      ) : (
        <DataTable
          data-table="standings"
          caption={`Standings: ${metricLabel(p.challenge.metric)}`}
          columns={[
            numeric('Rank'),
            'Participant',
            numeric('Distance (km)'),
            numeric('Value'),
            'Target met',
            numeric('Points'),
          ]}
        >
          {p.standings.map((s) => (
            <tr key={s.participant}>
              <td className="num">{s.rank === null ? '—' : formatNumber(s.rank)}</td>
              <th scope="row">
                {s.name}
                {s.eligible ? '' : ' (under the minimum distance)'}
              </th>
              <td className="num">{formatNumber(s.km, 1)}</td>
              <td className="num">{s.value === null ? '—' : formatNumber(s.value, digits)}</td>
              <td>{s.met ? 'Yes' : 'No'}</td>
              <td className="num">{formatNumber(s.points)}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}
