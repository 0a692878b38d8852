'use client';

import { useEffect, useState } from 'react';
import { DataTable } from '../../components/data-table.tsx';
import {
  CheckboxGroup,
  DateRangeFields,
  FilterBar,
  SelectField,
  TextField,
  useFilterDraft,
} from '../../components/filter-bar.tsx';
import { Pager } from '../../components/pager.tsx';
import { UtcTime } from '../../components/utc-time.tsx';
import { VehicleLink } from '../../components/vehicle-link.tsx';
import { useAuthRedirect } from '../../lib/auth-redirect.ts';
import { type DateInputs, formatCount, utcDaySpan } from '../../lib/format.ts';
import {
  ALERT_STATUS_LABELS,
  ALERT_TYPE_LABELS,
  type AlertStatus,
  alertStatusBadge,
  humanize,
  severityBadge,
} from '../../lib/labels.ts';
import { trpc } from '../../lib/trpc.ts';
import { usePagedQuery } from '../../lib/use-query.ts';

type AlertList = Awaited<ReturnType<typeof trpc.alerts.list.query>>;
type AlertInput = Extract<Parameters<typeof trpc.alerts.list.query>[0], object>;
type Alert = AlertList['items'][number];

/** A safety net: new alerts arrive through the live feed (SSE); this catches others' acknowledgements. */
const REFRESH_MS = 30_000;

interface Filter extends DateInputs {
  statuses: AlertStatus[];
  type: string;
  vehicleId: string;
}

const DEFAULT_FILTER: Filter = {
  statuses: ['open', 'acknowledged'],
  type: '',
  vehicleId: '',
  fromDate: '',
  toDate: '',
};

const STATUSES = Object.keys(ALERT_STATUS_LABELS) as AlertStatus[];

function toInput(f: Filter): AlertInput {
  return {
    limit: 50,
    ...(f.statuses.length > 0 ? { statuses: f.statuses } : {}),
    ...(f.type ? { types: [f.type as NonNullable<AlertInput['types']>[number]] } : {}),
    ...(f.vehicleId.trim() ? { vehicleId: f.vehicleId.trim() } : {}),
    ...utcDaySpan(f),
  };
}

export function AlertsInbox() {
  const { draft, edit, applied, apply, bind } = useFilterDraft(DEFAULT_FILTER, 'alert');
  const input = toInput(applied);
  const list = usePagedQuery(
    input,
    (cursor, signal) => trpc.alerts.list.query({ ...input, ...(cursor ? { cursor } : {}) }, { signal }),
    { refreshMs: REFRESH_MS },
  );
  const [actionError, setActionError] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  const onError = useAuthRedirect(setActionError);
  const { reload } = list;

  // New alerts: the live feed says one was raised, and the list (with its filter) is read again.
  useEffect(() => {
    const sub = trpc.live.alerts.subscribe(undefined, {
      onData: ({ alerts }) => {
        if (alerts.length === 0) return;
        setMessage(`${formatCount(alerts.length, 'new alert')}: ${alerts.map((a) => a.title).join('; ')}`);
        void reload();
      },
    });
    return () => sub.unsubscribe();
  }, [reload]);

  const act = async (alert: Alert, action: 'acknowledge' | 'resolve', note?: string) => {
    setActionError(null);
    try {
      const after =
        action === 'acknowledge'
          ? await trpc.alerts.acknowledge.mutate({ alertId: alert.id })
          : await trpc.alerts.resolve.mutate({ alertId: alert.id, ...(note ? { note } : {}) });
      setMessage(`Alert “${alert.title}” is now ${ALERT_STATUS_LABELS[after.status].toLowerCase()}.`);
      await reload();
    } catch (e) {
      onError(e);
    }
  };

  // The alert an e-mail, push or webhook linked to (/alerts?alert=ID), whatever the filter shows.
  const [linkedId, setLinkedId] = useState<number | null>(null);
  useEffect(() => {
    const id = Number(new URLSearchParams(window.location.search).get('alert'));
    if (Number.isSafeInteger(id) && id > 0) setLinkedId(id);
  }, []);
  const [linked, setLinked] = useState<Alert | null>(null);
  const [linkedError, setLinkedError] = useState<string | null>(null);
  useEffect(() => {
    if (linkedId === null) return;
    const controller = new AbortController();
    trpc.alerts.get
      .query({ alertId: linkedId }, { signal: controller.signal })
      .then(setLinked)
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setLinkedError(e instanceof Error ? e.message : String(e));
      });
    return () => controller.abort();
  }, [linkedId]);
  const actOnLinked = async (alert: Alert, action: 'acknowledge' | 'resolve', note?: string) => {
    await act(alert, action, note);
    setLinked(await trpc.alerts.get.query({ alertId: alert.id }).catch(() => alert));
  };

  const counts = list.pages?.[0]?.counts;
  const items = list.pages?.flatMap((p) => p.items) ?? null;
  const error = actionError ?? list.error;

  return (
    <>
      <FilterBar label="Filter alerts" onApply={apply}>
        <CheckboxGroup
          legend="Status"
          options={STATUSES.map((s) => ({
            value: s,
            label: `${ALERT_STATUS_LABELS[s]}${counts ? ` (${counts[s] ?? 0})` : ''}`,
          }))}
          {...bind('statuses')}
        />
        <SelectField label="Type" anyLabel="Any type" options={ALERT_TYPE_LABELS} {...bind('type')} />
        <TextField label="Vehicle" placeholder="e.g. veh-001" autoComplete="off" {...bind('vehicleId')} />
        <DateRangeFields idPrefix="alert" value={draft} onChange={edit} />
      </FilterBar>

      <div role="status" aria-live="polite">
        {message && <p className="notice">{message}</p>}
      </div>
      {error && <p className="error-text">Could not load alerts: {error}</p>}
      {linkedError && <p className="error-text">Could not load the linked alert: {linkedError}</p>}
      {linked && <LinkedAlert alert={linked} onAct={actOnLinked} />}

      {items &&
        (items.length === 0 ? (
          <p data-field="alertCount">No alerts match this filter.</p>
        ) : (
          <DataTable
            data-table="alerts"
            caption={`${formatCount(items.length, 'alert')}, newest first`}
            columns={['Alert', 'Severity', 'Status', 'Vehicle', 'When (UTC)', 'Actions']}
          >
            {items.map((a) => (
              <AlertRow key={a.id} alert={a} onAct={act} />
            ))}
          </DataTable>
        ))}
      <Pager hasMore={list.hasMore} onMore={list.more} what="alerts" />
    </>
  );
}

/** The alert a notification linked to: its facts (place, litres) and the same actions as the list. */
function LinkedAlert({
  alert,
  onAct,
}: {
  alert: Alert;
  onAct: (a: Alert, action: 'acknowledge' | 'resolve', note?: string) => Promise<void>;
}) {
  const litres = typeof alert.details.volumeL === 'number' ? alert.details.volumeL : null;
  return (
    <section aria-labelledby="linked-alert-heading" data-linked-alert={alert.id}>
      <h2 id="linked-alert-heading">The alert you followed</h2>
      <dl className="detail-grid">
        <div>
          <dt>Alert</dt>
          <dd>{alert.title}</dd>
        </div>
        <div>
          <dt>Vehicle</dt>
          <dd>
            <VehicleLink vehicleId={alert.vehicleId} />
          </dd>
        </div>
        <div>
          <dt>When (UTC)</dt>
          <dd>
            <UtcTime ms={alert.ts} />
          </dd>
        </div>
        {alert.lat !== null && alert.lon !== null && (
          <div>
            <dt>Place</dt>
            <dd data-field="place">
              {alert.lat.toFixed(5)}, {alert.lon.toFixed(5)}
            </dd>
          </div>
        )}
        {litres !== null && (
          <div>
            <dt>Litres</dt>
            <dd data-field="litres">{litres.toFixed(1)}</dd>
          </div>
        )}
      </dl>
      <DataTable
        data-table="linked-alert"
        caption="The linked alert"
        columns={['Alert', 'Severity', 'Status', 'Vehicle', 'When (UTC)', 'Actions']}
      >
        <AlertRow alert={alert} onAct={onAct} idPrefix="linked-" />
      </DataTable>
    </section>
  );
}

function AlertRow({
  alert,
  onAct,
  idPrefix = '',
}: {
  alert: Alert;
  onAct: (a: Alert, action: 'acknowledge' | 'resolve', note?: string) => Promise<void>;
  /** The same alert may show twice (linked and in the list): element ids stay unique. */
  idPrefix?: string;
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
        <VehicleLink vehicleId={alert.vehicleId} />
      </td>
      <td>
        <UtcTime ms={alert.ts} />
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
              <label className="visually-hidden" htmlFor={`${idPrefix}note-${alert.id}`}>
                Resolution note for {alert.title}
              </label>
              <input
                id={`${idPrefix}note-${alert.id}`}
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
