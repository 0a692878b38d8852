'use client';

import Link from 'next/link';
import { type FormEvent, useState } from 'react';
import { DateRangeFields, FilterBar, TextField, useFilterDraft } from '../../components/filter-bar.tsx';
import { Pager } from '../../components/pager.tsx';
import { UtcTime } from '../../components/utc-time.tsx';
import { useAuthRedirect } from '../../lib/auth-redirect.ts';
import { type DateInputs, formatNumber, utcDayInputs, utcDaySpan } from '../../lib/format.ts';
import { humanize } from '../../lib/labels.ts';
import { trpc } from '../../lib/trpc.ts';
import { usePagedQuery, useQuery } from '../../lib/use-query.ts';

type Answer = Awaited<ReturnType<typeof trpc.search.query.query>>;
type SavedSearch = Awaited<ReturnType<typeof trpc.search.saved.query>>[number];
type Query = SavedSearch['query'];
type Facet = keyof Answer['facets'];
type Kind = NonNullable<Query['kinds']>[number];
type FacetField = 'kinds' | 'vehicleIds' | 'driverIds' | 'fuelTypes' | 'statuses';
/** The query's facet choices: everything but the words and the dates. */
type Facets = Omit<Query, 'q' | 'from' | 'to'>;

/** Each facet of the answer and the query field it filters. */
const FACETS: ReadonlyArray<{ facet: Facet; field: FacetField; label: string }> = [
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

interface Words extends DateInputs {
  text: string;
}

/** A saved search's query as the form's words and dates, and its facet choices. */
function splitQuery({ q, from, to, ...facets }: Query): { words: Words; facets: Facets } {
  return { words: { text: q ?? '', ...utcDayInputs({ from, to }) }, facets };
}

export function SearchPage() {
  const { draft, edit, applied, replace, bind } = useFilterDraft<Words>(
    { text: '', fromDate: '', toDate: '' },
    'search',
  );
  const [facets, setFacets] = useState<Facets>({});
  const [saveName, setSaveName] = useState('');
  const [actionError, setActionError] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  const onError = useAuthRedirect(setActionError);

  const query: Query = {
    ...facets,
    ...(applied.text.trim() ? { q: applied.text.trim() } : {}),
    ...utcDaySpan(applied),
  };
  const results = usePagedQuery(query, (cursor, signal) =>
    trpc.search.query.query({ ...query, limit: 50, ...(cursor ? { cursor } : {}) }, { signal }),
  );
  const saved = useQuery(null, (signal) => trpc.search.saved.query(undefined, { signal }));
  const savedSearches = saved.data ?? [];
  const answer = results.pages?.[0] ?? null;
  const hits = results.pages?.flatMap((p) => p.hits) ?? [];

  const toggle = (field: FacetField, value: string, on: boolean) =>
    setFacets((f) => {
      const current = (f[field] ?? []) as string[];
      const next = on ? [...current, value] : current.filter((v) => v !== value);
      const { [field]: _, ...rest } = f;
      return next.length > 0 ? { ...rest, [field]: field === 'kinds' ? (next as Kind[]) : next } : rest;
    });

  const applySaved = (s: SavedSearch) => {
    const { words, facets } = splitQuery(s.query);
    replace(words);
    setFacets(facets);
    setMessage(`Applied the saved search “${s.name}”.`);
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setActionError(null);
    try {
      const s = await trpc.search.save.mutate({ name: saveName.trim(), query });
      setMessage(`Saved this search as “${s.name}”.`);
      setSaveName('');
      await saved.reload();
    } catch (err) {
      onError(err);
    }
  };

  const remove = async (s: SavedSearch) => {
    setActionError(null);
    try {
      await trpc.search.deleteSaved.mutate({ savedSearchId: s.id });
      setMessage(`Deleted the saved search “${s.name}”.`);
      await saved.reload();
    } catch (err) {
      onError(err);
    }
  };

  const error = actionError ?? results.error ?? saved.error;

  return (
    <>
      <search>
        <FilterBar
          label="Search vehicles, drivers, alerts and fuel logs"
          legend="Search"
          submitLabel="Search"
          onApply={() => replace(draft)}
        >
          <TextField label="Words" type="search" maxLength={200} {...bind('text')} />
          <DateRangeFields idPrefix="search" value={draft} onChange={edit} />
        </FilterBar>
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
            (hits.length === 0 ? (
              <p>Nothing matches. Remove a filter or use fewer words.</p>
            ) : (
              <ul className="hit-list" data-list="hits">
                {hits.map((h) => {
                  const href = hitHref(h);
                  return (
                    <li key={`${h.kind}-${h.id}`} data-hit-kind={h.kind}>
                      <span className="badge badge--info">{KIND_LABELS[h.kind] ?? humanize(h.kind)}</span>{' '}
                      {href ? <Link href={href}>{h.title}</Link> : <strong>{h.title}</strong>}
                      {h.subtitle && <span className="muted"> — {h.subtitle}</span>}
                      <br />
                      <span className="muted">
                        <UtcTime ms={h.ts} />
                        {h.status ? ` · ${humanize(h.status)}` : ''}
                        {h.fuelType ? ` · ${h.fuelType}` : ''}
                      </span>
                    </li>
                  );
                })}
              </ul>
            ))}
          <Pager hasMore={results.hasMore} onMore={results.more} what="results" />
        </section>

        <div>
          <section aria-labelledby="facets-heading">
            <h2 id="facets-heading">Narrow down</h2>
            {answer &&
              FACETS.map(({ facet, field, label }) => {
                const values = answer.facets[facet] ?? [];
                const chosen = (facets[field] ?? []) as string[];
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
              <TextField
                id="save-name"
                label="Name for this search"
                value={saveName}
                onChange={setSaveName}
                maxLength={100}
                required
              />
              <button type="submit">Save search</button>
            </form>
            {savedSearches.length === 0 ? (
              <p>No saved searches yet.</p>
            ) : (
              <ul className="saved-list">
                {savedSearches.map((s) => (
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
