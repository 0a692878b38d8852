'use client';

/**
 * The pre-trip inspection (DVIR style): one line per part of the vehicle, ticked when it has a
 * defect, and a note. Works without signal like the refuel log: the report waits in this phone's
 * outbox (lib/offline/defect-outbox.ts) and is sent once the phone is online; a marked defect
 * opens a work order in the office.
 */
import { type FormEvent, startTransition, useCallback, useEffect, useId, useState } from 'react';
import {
  type ChecklistItem,
  enqueueDefectReport,
  listQueuedDefects,
  type QueuedDefectReport,
  syncDefectReports,
} from '../../../lib/offline/defect-outbox.ts';
import { useDriverText } from '../i18n/driver-text-context.tsx';
import type { DriverText } from '../i18n/i18n.ts';

const CHECKLIST: readonly ChecklistItem[] = [
  'brakes',
  'lights',
  'tyres',
  'steering',
  'horn',
  'wipers',
  'mirrors',
  'fluid_leaks',
  'seat_belts',
  'warning_lights',
];

export function DefectReportCard({
  who,
  announce,
}: {
  who: { userId: string; vehicleId: string } | null;
  announce: (message: string) => void;
}) {
  const { t } = useDriverText();
  const id = useId();
  const [outbox, setOutbox] = useState<QueuedDefectReport[] | null>(null);
  const [busy, setBusy] = useState(false);
  const userId = who?.userId ?? null;

  const refresh = useCallback(async () => {
    if (!userId) return;
    const mine = (await listQueuedDefects()).filter((e) => e.userId === userId);
    // The same entries in the same state: keep what is shown (no render for a read that found
    // nothing new). A transition: the card renders in slices, not in a long task of its own.
    startTransition(() =>
      setOutbox((shown) =>
        shown !== null &&
        shown.length === mine.length &&
        shown.every(
          (e, i) =>
            e.clientId === mine[i]!.clientId &&
            e.attempts === mine[i]!.attempts &&
            e.rejected === mine[i]!.rejected,
        )
          ? shown
          : mine,
      ),
    );
  }, [userId]);

  const sync = useCallback(async () => {
    if (!userId || !navigator.onLine) return;
    const r = await syncDefectReports(userId);
    await refresh();
    if (r.sent > 0) announce(t(r.workOrders > 0 ? 'defect.sentWorkOrder' : 'defect.sent', { n: r.sent }));
    if (r.rejected > 0) announce(t('defect.rejected'));
  }, [userId, refresh, announce, t]);

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
    const items = CHECKLIST.map((item) => ({ item, ok: form.get(item) !== 'defect' }));
    setBusy(true);
    try {
      await enqueueDefectReport({ ts: Date.now(), items, note: note ? note.slice(0, 1000) : null }, who);
      el.reset();
      await refresh();
      const defects = items.filter((i) => !i.ok).length;
      announce(
        `${defects > 0 ? t('defect.savedWith', { defects: t('defect.defects', { n: defects }) }) : t('defect.saved')} ${
          navigator.onLine ? t('defect.sendingNow') : t('defect.waitingSync')
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
        <h2 id={`${id}-title`}>{t('defect.title')}</h2>
        <p className="hint">{t('defect.hint')}</p>
        <fieldset>
          <legend>{t('defect.legend')}</legend>
          {CHECKLIST.map((item) => (
            <label key={item} className="choice">
              <input type="checkbox" name={item} value="defect" /> {t(`defect.item.${item}`)}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor={`${id}-note`}>{t('defect.note')}</label>
          <textarea id={`${id}-note`} name="note" maxLength={1000} rows={2} />
        </div>
        <button type="submit" disabled={busy || !who}>
          {busy ? t('refuel.saving') : t('defect.submit')}
        </button>
      </form>
      {outbox === null || outbox.length === 0 ? (
        <p data-testid="defect-outbox-empty">{t('defect.empty')}</p>
      ) : (
        <ul className="refuel-list" data-testid="defect-outbox">
          {waiting.map((e) => (
            <li key={e.clientId} data-client-id={e.clientId} data-state="waiting">
              <span className="sync-state">
                <span aria-hidden="true">○ </span>
                {t('outbox.waiting')}
              </span>{' '}
              {t('defect.inspectionWith', { defects: defectCount(e, t) })}
            </li>
          ))}
          {rejected.map((e) => (
            <li key={e.clientId} data-client-id={e.clientId} data-state="rejected">
              <span className="sync-state sync-state--rejected">
                <span aria-hidden="true">✖ </span>
                {t('outbox.notAccepted')}
              </span>{' '}
              {e.rejected}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function defectCount(e: QueuedDefectReport, t: DriverText['t']): string {
  const n = e.items.filter((i) => !i.ok).length;
  return n === 0 ? t('defect.noDefects') : t('defect.defects', { n });
}
