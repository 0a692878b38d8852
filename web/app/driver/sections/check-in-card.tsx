'use client';

import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { driverApi, isNetworkFailure } from '../driver-api.ts';
import { useDriverText } from '../i18n/driver-text-context.tsx';
import type { Allowed } from '../use-driver-home.ts';
import { useOwnAnswer } from '../use-own-answer.ts';

const label = (v: Allowed[number]) =>
  [v.plate ?? v.id, [v.make, v.model].filter(Boolean).join(' '), v.groupName && `(${v.groupName})`]
    .filter(Boolean)
    .join(' ');

/**
 * "Which vehicle are you driving?": the vehicles of the driver's groups (assignments.allowed);
 * checking in ends whoever had the vehicle before, from now on, and everything the vehicle records
 * from then on is credited to this driver. Needs a connection: who drives what is decided by the
 * cloud, never queued on the phone. The list comes with the home read; the card reads it again
 * itself after a check-in, and when the home read came without it (offline copy) and the phone is
 * back online.
 */
export function CheckInCard({
  currentVehicleId,
  listed,
  online,
  onChanged,
}: {
  /** Undefined until the home read answers (the card is on the page from its first paint). */
  currentVehicleId: string | null | undefined;
  /** The home read's list: undefined until it answers, null when it came without one. */
  listed: Allowed | null | undefined;
  online: boolean;
  onChanged: (message: string) => Promise<void>;
}) {
  const { t } = useDriverText();
  const [vehicles, setVehicles] = useOwnAnswer<Allowed | null>(listed ?? null);
  const [choice, setChoice] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const list = await driverApi.assignments.allowed.query();
      setVehicles(list);
      setError(null);
    } catch (e) {
      setError(
        isNetworkFailure(e)
          ? t('checkIn.needsConnectionToChoose')
          : t('checkIn.loadFailed', { reason: e instanceof Error ? e.message : t('common.unknownError') }),
      );
    }
  }, [t, setVehicles]);
  useEffect(() => {
    if (online && listed === null) void load();
    // A list from the home read ends what an earlier failed read of the card's own said.
    if (listed) setError(null);
  }, [online, listed, load]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!choice) {
      setError(t('checkIn.choose'));
      return;
    }
    setBusy(true);
    try {
      await driverApi.assignments.checkIn.mutate({ vehicleId: choice });
      const v = vehicles?.find((x) => x.id === choice);
      setChoice('');
      setError(null);
      await load();
      await onChanged(t('checkIn.done', { vehicle: v ? label(v) : choice }));
    } catch (err) {
      setError(
        isNetworkFailure(err)
          ? t('checkIn.needsConnection')
          : t('checkIn.failed', { reason: err instanceof Error ? err.message : t('common.unknownError') }),
      );
    } finally {
      setBusy(false);
    }
  };

  const others = vehicles?.filter((v) => v.id !== currentVehicleId) ?? [];
  const current = vehicles?.find((v) => v.id === currentVehicleId);
  return (
    <section aria-labelledby="check-in-title" className="card" data-testid="check-in">
      <h2 id="check-in-title">{t('checkIn.title')}</h2>
      <p data-testid="current-vehicle">
        {currentVehicleId === undefined
          ? t('common.loadingCap')
          : currentVehicleId
            ? t('checkIn.current', { vehicle: current ? label(current) : currentVehicleId })
            : t('checkIn.none')}
      </p>
      {vehicles && others.length === 0 ? <p className="check-in-other">{t('checkIn.noOther')}</p> : null}
      {vehicles === null && !error ? (
        // Where the list (or the line saying there is none) will be: the cards below do not
        // jump when it arrives (layout shift).
        <p className="check-in-other">{t('common.loadingCap')}</p>
      ) : null}
      {others.length > 0 ? (
        <form onSubmit={submit} aria-label={t('checkIn.formLabel')} noValidate>
          <fieldset>
            <legend>{currentVehicleId ? t('checkIn.change') : t('checkIn.formLabel')}</legend>
            {others.map((v) => (
              <label key={v.id} className="choice">
                <input
                  type="radio"
                  name="check-in-vehicle"
                  value={v.id}
                  checked={choice === v.id}
                  onChange={() => setChoice(v.id)}
                  aria-describedby={error ? 'check-in-error' : undefined}
                />{' '}
                {label(v)}
                {v.takenBy ? t('checkIn.drivenBy', { name: v.takenBy }) : ''}
              </label>
            ))}
          </fieldset>
          <button type="submit" aria-busy={busy} disabled={!online}>
            {t('checkIn.button')}
          </button>
        </form>
      ) : null}
      {error ? (
        <p id="check-in-error" className="error-text" role="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
}
