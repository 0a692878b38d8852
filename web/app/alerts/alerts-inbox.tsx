'use client';

import Link from 'next/link';
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { formatDateTime } from '../../components/fuel-chart.tsx';
import { useAuthRedirect } from '../../lib/auth-redirect.ts';
import { toIsoTimestamp } from '../../lib/format.ts';
import {
  ALERT_STATUS_LABELS,
  ALERT_TYPE_LABELS,
  type AlertStatus,
  alertStatusBadge,
  humanize,
  severityBadge,
} from '../../lib/labels.ts';
import { trpc } from '../../lib/trpc.ts';

type AlertList = Awaited<ReturnType<typeof trpc.alerts.list.query>>;
type AlertInput = Extract<Parameters<typeof trpc.alerts.list.query>[0], object>;
type Alert = AlertList['items'][number];

/** A safety net: new alerts arrive through the live feed (SSE); this catches others' acknowledgements. */
const REFRESH_MS = 30_000;

interface Filter {
  statuses: AlertStatus[];
  type: string;
  vehicleId: string;
  fromDate: string;
  toDate: string;
}

const DEFAULT_FILTER: Filter = {
  statuses: ['open', 'acknowledged'],
  type: '',
  vehicleId: '',
  fromDate: '',
  toDate: '',
};

function toInput(f: Filter, cursor?: string): AlertInput {
  return {
    limit: 50,
    ...(f.statuses.length > 0 ? { statuses: f.statuses } : {}),
    ...(f.type ? { types: [f.type as NonNullable<AlertInput['types']>[number]] } : {}),
    ...(f.vehicleId.trim() ? { vehicleId: f.vehicleId.trim() } : {}),
    ...(f.fromDate ? { from: Date.parse(`${f.fromDate}T00:00:00Z`) } : {}),
    ...(f.toDate ? { to: Date.parse(`${f.toDate}T00:00:00Z`) + 86_400_000 } : {}),
    ...(cursor ? { cursor } : {}),
  };
}

export function AlertsInbox() {
  const [draft, setDraft] = useState<Filter>(DEFAULT_FILTER);
  const [filter, setFilter] = useState<Filter>(DEFAULT_FILTER);
  const [list, setList] = useState<AlertList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  const onError = useAuthRedirect(setError);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const answer = await trpc.alerts.list.query(toInput(filter), { signal });
        setList(answer);
        setError(null);
      } catch (e) {
        if (!signal?.aborted) onError(e);
      }
    },
    [filter, onError],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    const timer = setInterval(() => void load(controller.signal), REFRESH_MS);
    return () => {
      controller.abort();
      clearInterval(timer);
    };
  }, [load]);

  // New alerts: the live feed says one was raised, and the list (with its filter) is read again.
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const sub = trpc.live.alerts.subscribe(undefined, {
      onData: ({ alerts }) => {
        if (alerts.length === 0) return;
        setMessage(
          `${alerts.length} new alert${alerts.length === 1 ? '' : 's'}: ${alerts.map((a) => a.title).join('; ')}`,
        );
        void loadRef.current();
      },
    });
    return () => sub.unsubscribe();
  }, []);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilter(draft);
  };

  const act = async (alert: Alert, action: 'acknowledge' | 'resolve', note?: string) => {
    try {
      const after =
        action === 'acknowledge'
          ? await trpc.alerts.acknowledge.mutate({ alertId: alert.id })
          : await trpc.alerts.resolve.mutate({ alertId: alert.id, ...(note ? { note } : {}) });
      setMessage(`Alert “${alert.title}” is now ${ALERT_STATUS_LABELS[after.status].toLowerCase()}.`);
      await load();
    } catch (e) {
      onError(e);
    }
  };

  const toggleStatus = (s: AlertStatus, on: boolean) =>
    setDraft((d) => ({ ...d, statuses: on ? [...d.statuses, s] : d.statuses.filter((x) => x !== s) }));

  return (
    <>
      <form onSubmit={apply} aria-label="Filter alerts">
        <fieldset className="filters">
          <legend>Filter</legend>
          <fieldset className="field">
            <legend className="label">Status</legend>
            <div className="actions">
              {(Object.keys(ALERT_STATUS_LABELS) as AlertStatus[]).map((s) => (
                <label key={s}>
                  <input
                    type="checkbox"
                    name="status"
                    value={s}
                    checked={draft.statuses.includes(s)}
                    onChange={(e) => toggleStatus(s, e.target.checked)}
                  />{' '}
                  {ALERT_STATUS_LABELS[s]}
                  {list ? ` (${list.counts[s] ?? 0})` : ''}
                </label>
              ))}
            </div>
          </fieldset>
          <div className="field">
            <label htmlFor="alert-type">Type</label>
            <select
              id="alert-type"
              value={draft.type}
              onChange={(e) => setDraft({ ...draft, type: e.target.value })}
            >
              <option value="">Any type</option>
              {Object.entries(ALERT_TYPE_LABELS).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="alert-vehicle">Vehicle</label>
            <input
              id="alert-vehicle"
              value={draft.vehicleId}
              onChange={(e) => setDraft({ ...draft, vehicleId: e.target.value })}
              placeholder="e.g. veh-001"
              autoComplete="off"
            />
          </div>
          <div className="field">
            <label htmlFor="alert-from">From (UTC date)</label>
            <input
              id="alert-from"
              type="date"
              value={draft.fromDate}
              onChange={(e) => setDraft({ ...draft, fromDate: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor="alert-to">To (UTC date, inclusive)</label>
            <input
              id="alert-to"
              type="date"
              value={draft.toDate}
              onChange={(e) => setDraft({ ...draft, toDate: e.target.value })}
            />
          </div>
          <button type="submit">Apply filter</button>
        </fieldset>
      </form>

      <div role="status" aria-live="polite">
        {message && <p className="notice">{message}</p>}
      </div>
      {error && <p className="error-text">Could not load alerts: {error}</p>}

      {list &&
        (list.items.length === 0 ? (
          <p data-field="alertCount">No alerts match this filter.</p>
        ) : (
          <div className="table-scroll">
            <table className="data-table" data-table="alerts">
              <caption>
                {list.items.length} alert{list.items.length === 1 ? '' : 's'}, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Alert</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Status</th>
                  <th scope="col">Vehicle</th>
                  <th scope="col">When (UTC)</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.items.map((a) => (
                  <AlertRow key={a.id} alert={a} onAct={act} />
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </>
  );
}

function AlertRow({
  alert,
  onAct,
}: {
  alert: Alert;
  onAct: (a: Alert, action: 'acknowledge' | 'resolve', note?: string) => Promise<void>;
}) {
  const [note, setNote] = useState('');
  const severity = severityBadge(alert.severity);
  const status = alertStatusBadge(alert.status);
  return (
    <tr data-alert-id={alert.id} data-status={alert.status}>
      <th scope="row">
        {alert.title}
        <br />
        <span className="muted">{ALERT_TYPE_LABELS[alert.type] ?? humanize(alert.type)}</span>
      </th>
      <td>
        <span className={severity.className}>{severity.text}</span>
      </td>
      <td>
        <span className={status.className}>{status.text}</span>
        {alert.acknowledgedBy && alert.status === 'acknowledged' && (
          <span className="muted"> by {alert.acknowledgedBy}</span>
        )}
      </td>
      <td>
        {alert.vehicleId ? (
          <Link href={`/vehicles/${encodeURIComponent(alert.vehicleId)}`}>{alert.vehicleId}</Link>
        ) : (
          '—'
        )}
      </td>
      <td>
        <time dateTime={toIsoTimestamp(alert.ts)}>{formatDateTime(alert.ts)}</time>
      </td>
      <td>
        <div className="actions">
          {alert.status === 'open' && (
            <button type="button" onClick={() => void onAct(alert, 'acknowledge')}>
              Acknowledge<span className="visually-hidden"> {alert.title}</span>
            </button>
          )}
          {alert.status !== 'resolved' && (
            <>
              <label className="visually-hidden" htmlFor={`note-${alert.id}`}>
                Resolution note for {alert.title}
              </label>
              <input
                id={`note-${alert.id}`}
                value={note}
                maxLength={500}
                placeholder="Note (optional)"
                onChange={(e) => setNote(e.target.value)}
              />
              <button
                type="button"
                className="button--secondary"
                onClick={() => void onAct(alert, 'resolve', note)}
              >
                Resolve<span className="visually-hidden"> {alert.title}</span>
              </button>
            </>
          )}
          {alert.status === 'resolved' && <span>{alert.resolutionNote ?? 'Resolved'}</span>}
        </div>
      </td>
    </tr>
  );
}
