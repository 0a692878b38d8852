'use client';

/**
 * The pre-trip inspection (DVIR style): one line per part of the vehicle, ticked when it has a
 * defect, and a note. Works without signal like the refuel log: the report waits in this phone's
 * outbox (lib/offline/defect-outbox.ts) and is sent once the phone is online; a marked defect
 * opens a work order in the office.
 */
import { type FormEvent, useCallback, useEffect, useId, useState } from 'react';
import {
  type ChecklistItem,
  enqueueDefectReport,
  listQueuedDefects,
  type QueuedDefectReport,
  syncDefectReports,
} from '../../../lib/offline/defect-outbox.ts';

const CHECKLIST: readonly (readonly [ChecklistItem, string])[] = [
  ['brakes', 'Brakes'],
  ['lights', 'Lights and indicators'],
  ['tyres', 'Tyres and wheels'],
  ['steering', 'Steering'],
  ['horn', 'Horn'],
  ['wipers', 'Wipers and washers'],
  ['mirrors', 'Mirrors'],
  ['fluid_leaks', 'Fluid leaks'],
  ['seat_belts', 'Seat belts'],
  ['warning_lights', 'Dashboard warning lights'],
];

export function DefectReportCard({
  who,
  announce,
}: {
  who: { userId: string; vehicleId: string } | null;
  announce: (message: string) => void;
}) {
  const id = useId();
  const [outbox, setOutbox] = useState<QueuedDefectReport[] | null>(null);
  const [busy, setBusy] = useState(false);
  const userId = who?.userId ?? null;

  const refresh = useCallback(async () => {
    if (!userId) return;
    setOutbox((await listQueuedDefects()).filter((e) => e.userId === userId));
  }, [userId]);

  const sync = useCallback(async () => {
    if (!userId || !navigator.onLine) return;
    const r = await syncDefectReports(userId);
    await refresh();
    if (r.sent > 0)
      announce(
        `${r.sent === 1 ? 'Inspection' : `${r.sent} inspections`} sent${
          r.workOrders > 0 ? '; the workshop has a work order for the defects' : ''
        }.`,
      );
    if (r.rejected > 0) announce('An inspection was not accepted; see the list.');
  }, [userId, refresh, announce]);

  useEffect(() => {
    void refresh().then(sync);
    const back = () => void sync();
    window.addEventListener('online', back);
    return () => window.removeEventListener('online', back);
  }, [refresh, sync]);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (!who) return;
    const el = e.currentTarget;
    const form = new FormData(el);
    const note = String(form.get('note') ?? '').trim();
    const items = CHECKLIST.map(([item]) => ({ item, ok: form.get(item) !== 'defect' }));
    setBusy(true);
    try {
      await enqueueDefectReport({ ts: Date.now(), items, note: note ? note.slice(0, 1000) : null }, who);
      el.reset();
      await refresh();
      const defects = items.filter((i) => !i.ok).length;
      announce(
        `Inspection saved on this phone${defects > 0 ? ` with ${defects} ${defects === 1 ? 'defect' : 'defects'}` : ''}. ${
          navigator.onLine
            ? 'Sending it now.'
            : 'It is waiting to sync and will be sent when you are back online.'
        }`,
      );
      await sync();
    } finally {
      setBusy(false);
    }
  };

  const waiting = (outbox ?? []).filter((e) => e.rejected === null);
  const rejected = (outbox ?? []).filter((e) => e.rejected !== null);
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <form onSubmit={submit} noValidate aria-labelledby={`${id}-title`}>
        <h2 id={`${id}-title`}>Pre-trip inspection</h2>
        <p className="hint">Tick what has a defect. Works without signal: sent when you are back online.</p>
        <fieldset>
          <legend>Defects found</legend>
          {CHECKLIST.map(([item, label]) => (
            <label key={item} className="choice">
              <input type="checkbox" name={item} value="defect" /> {label}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor={`${id}-note`}>Note for the workshop</label>
          <textarea id={`${id}-note`} name="note" maxLength={1000} rows={2} />
        </div>
        <button type="submit" disabled={busy || !who}>
          {busy ? 'Saving…' : 'Submit inspection'}
        </button>
      </form>
      {outbox === null || outbox.length === 0 ? (
        <p data-testid="defect-outbox-empty">No inspection waiting on this phone.</p>
      ) : (
        <ul className="refuel-list" data-testid="defect-outbox">
          {waiting.map((e) => (
            <li key={e.clientId} data-client-id={e.clientId} data-state="waiting">
              <span className="sync-state">
                <span aria-hidden="true">○ </span>Waiting to sync
              </span>{' '}
              inspection with {defectCount(e)}
            </li>
          ))}
          {rejected.map((e) => (
            <li key={e.clientId} data-client-id={e.clientId} data-state="rejected">
              <span className="sync-state sync-state--rejected">
                <span aria-hidden="true">✖ </span>Not accepted:
              </span>{' '}
              {e.rejected}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function defectCount(e: QueuedDefectReport): string {
  const n = e.items.filter((i) => !i.ok).length;
  return n === 0 ? 'no defects' : `${n} ${n === 1 ? 'defect' : 'defects'}`;
}
