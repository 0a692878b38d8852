'use client';

import Link from 'next/link';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { formatDateTime } from '../../components/fuel-chart.tsx';
import { useAuthRedirect } from '../../lib/auth-redirect.ts';
import { formatNumber, toIsoTimestamp } from '../../lib/format.ts';
import { humanize } from '../../lib/labels.ts';
import { trpc } from '../../lib/trpc.ts';

type Answer = Awaited<ReturnType<typeof trpc.search.query.query>>;
type Saved = Awaited<ReturnType<typeof trpc.search.saved.query>>;
type Query = Saved[number]['query'];
type Facet = keyof Answer['facets'];
type Kind = NonNullable<Query['kinds']>[number];

/** Each facet of the answer and the query field it filters. */
const FACETS: ReadonlyArray<{
  facet: Facet;
  field: 'kinds' | 'vehicleIds' | 'driverIds' | 'fuelTypes' | 'statuses';
  label: string;
}> = [
  { facet: 'kind', field: 'kinds', label: 'Kind' },
  { facet: 'vehicle', field: 'vehicleIds', label: 'Vehicle' },
  { facet: 'driver', field: 'driverIds', label: 'Driver' },
  { facet: 'fuelType', field: 'fuelTypes', label: 'Fuel type' },
  { facet: 'status', field: 'statuses', label: 'Status' },
];

const KIND_LABELS: Record<string, string> = {
  vehicle: 'Vehicle',
  driver: 'Driver',
  alert: 'Alert',
  fuel: 'Fuel log',
};

function hitHref(hit: Answer['hits'][number]): string | null {
  if (hit.kind === 'vehicle') return `/vehicles/${encodeURIComponent(hit.id)}`;
  if (hit.kind === 'alert') return '/alerts';
  if (hit.kind === 'fuel') return '/fuel';
  return hit.vehicleId ? `/vehicles/${encodeURIComponent(hit.vehicleId)}` : null;
}

const dateToMs = (d: string, endOfDay = false) => Date.parse(`${d}T00:00:00Z`) + (endOfDay ? 86_400_000 : 0);
const msToDate = (ms: number | undefined, endOfDay = false) =>
  ms === undefined ? '' : new Date(ms - (endOfDay ? 86_400_000 : 0)).toISOString().slice(0, 10);

export function SearchPage() {
  const [query, setQuery] = useState<Query>({});
  const [text, setText] = useState('');
  const [fromDate, setFromDate] = useState('');
  const [toDate, setToDate] = useState('');
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [saved, setSaved] = useState<Saved>([]);
  const [saveName, setSaveName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  const onError = useAuthRedirect(setError);

  useEffect(() => {
    const controller = new AbortController();
    trpc.search.query
      .query({ ...query, limit: 50 }, { signal: controller.signal })
      .then((a) => {
        setAnswer(a);
        setError(null);
      })
      .catch((e) => !controller.signal.aborted && onError(e));
    return () => controller.abort();
  }, [query, onError]);

  const loadSaved = useCallback(() => {
    trpc.search.saved.query().then(setSaved, onError);
  }, [onError]);
  useEffect(loadSaved, [loadSaved]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setQuery((q) => {
      const { q: _q, from: _f, to: _t, ...rest } = q;
      return {
        ...rest,
        ...(text.trim() ? { q: text.trim() } : {}),
        ...(fromDate ? { from: dateToMs(fromDate) } : {}),
        ...(toDate ? { to: dateToMs(toDate, true) } : {}),
      };
    });
  };

  const toggle = (field: (typeof FACETS)[number]['field'], value: string, on: boolean) =>
    setQuery((q) => {
      const current = (q[field] ?? []) as string[];
      const next = on ? [...current, value] : current.filter((v) => v !== value);
      const { [field]: _, ...rest } = q;
      return next.length > 0 ? { ...rest, [field]: field === 'kinds' ? (next as Kind[]) : next } : rest;
    });

  const applySaved = (s: Saved[number]) => {
    setQuery(s.query);
    setText(s.query.q ?? '');
    setFromDate(msToDate(s.query.from));
    setToDate(msToDate(s.query.to, true));
    setMessage(`Applied the saved search “${s.name}”.`);
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const s = await trpc.search.save.mutate({ name: saveName.trim(), query });
      setMessage(`Saved this search as “${s.name}”.`);
      setSaveName('');
      loadSaved();
    } catch (err) {
      onError(err);
    }
  };

  const remove = async (s: Saved[number]) => {
    try {
      await trpc.search.deleteSaved.mutate({ savedSearchId: s.id });
      setMessage(`Deleted the saved search “${s.name}”.`);
      loadSaved();
    } catch (err) {
      onError(err);
    }
  };

  return (
    <>
      <search>
        <form onSubmit={submit} aria-label="Search vehicles, drivers, alerts and fuel logs">
          <fieldset className="filters">
            <legend>Search</legend>
            <div className="field">
              <label htmlFor="search-q">Words</label>
              <input
                id="search-q"
                type="search"
                value={text}
                onChange={(e) => setText(e.target.value)}
                maxLength={200}
              />
            </div>
            <div className="field">
              <label htmlFor="search-from">From (UTC date)</label>
              <input
                id="search-from"
                type="date"
                value={fromDate}
                onChange={(e) => setFromDate(e.target.value)}
              />
            </div>
            <div className="field">
              <label htmlFor="search-to">To (UTC date, inclusive)</label>
              <input id="search-to" type="date" value={toDate} onChange={(e) => setToDate(e.target.value)} />
            </div>
            <button type="submit">Search</button>
          </fieldset>
        </form>
      </search>
      <div role="status" aria-live="polite">
        {message && <p className="notice">{message}</p>}
      </div>
      {error && <p className="error-text">Search failed: {error}</p>}

      <div className="overview-grid search-grid">
        <section aria-labelledby="results-heading">
          <h2 id="results-heading">
            Results{answer ? <span data-field="total"> ({formatNumber(answer.total)})</span> : null}
          </h2>
          {answer &&
            (answer.hits.length === 0 ? (
              <p>Nothing matches. Remove a filter or use fewer words.</p>
            ) : (
              <ul className="hit-list" data-list="hits">
                {answer.hits.map((h) => {
                  const href = hitHref(h);
                  return (
                    <li key={`${h.kind}-${h.id}`} data-hit-kind={h.kind}>
                      <span className="badge badge--info">{KIND_LABELS[h.kind] ?? humanize(h.kind)}</span>{' '}
                      {href ? <Link href={href}>{h.title}</Link> : <strong>{h.title}</strong>}
                      {h.subtitle && <span className="muted"> — {h.subtitle}</span>}
                      <br />
                      <span className="muted">
                        <time dateTime={toIsoTimestamp(h.ts)}>{formatDateTime(h.ts)}</time>
                        {h.status ? ` · ${humanize(h.status)}` : ''}
                        {h.fuelType ? ` · ${h.fuelType}` : ''}
                      </span>
                    </li>
                  );
                })}
              </ul>
            ))}
        </section>

        <div>
          <section aria-labelledby="facets-heading">
            <h2 id="facets-heading">Narrow down</h2>
            {answer &&
              FACETS.map(({ facet, field, label }) => {
                const values = answer.facets[facet] ?? [];
                const chosen = (query[field] ?? []) as string[];
                if (values.length === 0 && chosen.length === 0) return null;
                return (
                  <fieldset key={facet} className="filters facet" data-facet={facet}>
                    <legend>{label}</legend>
                    {values.map((v) => (
                      <label key={v.value} className="facet-value">
                        <input
                          type="checkbox"
                          checked={chosen.includes(v.value)}
                          onChange={(e) => toggle(field, v.value, e.target.checked)}
                        />{' '}
                        {facet === 'kind' ? (KIND_LABELS[v.value] ?? v.label) : v.label} (
                        {formatNumber(v.count)})
                      </label>
                    ))}
                  </fieldset>
                );
              })}
          </section>

          <section aria-labelledby="saved-heading">
            <h2 id="saved-heading">Saved searches</h2>
            <form onSubmit={save} className="actions" aria-label="Save this search">
              <div className="field">
                <label htmlFor="save-name">Name for this search</label>
                <input
                  id="save-name"
                  value={saveName}
                  onChange={(e) => setSaveName(e.target.value)}
                  maxLength={100}
                  required
                />
              </div>
              <button type="submit">Save search</button>
            </form>
            {saved.length === 0 ? (
              <p>No saved searches yet.</p>
            ) : (
              <ul className="saved-list">
                {saved.map((s) => (
                  <li key={s.id} data-saved-search={s.name}>
                    <div className="actions">
                      <button type="button" className="button--secondary" onClick={() => applySaved(s)}>
                        {s.name}
                        <span className="visually-hidden"> (apply)</span>
                      </button>
                      <button type="button" className="button--secondary" onClick={() => void remove(s)}>
                        Delete<span className="visually-hidden"> saved search {s.name}</span>
                      </button>
                    </div>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
      </div>
    </>
  );
}
