'use client';

import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { driverApi, isNetworkFailure } from '../driver-api.ts';

type Allowed = Awaited<ReturnType<typeof driverApi.assignments.allowed.query>>;

const label = (v: Allowed[number]) =>
  [v.plate ?? v.id, [v.make, v.model].filter(Boolean).join(' '), v.groupName && `(${v.groupName})`]
    .filter(Boolean)
    .join(' ');

/**
 * "Which vehicle are you driving?": the vehicles of the driver's groups (assignments.allowed);
 * checking in ends whoever had the vehicle before, from now on, and everything the vehicle records
 * from then on is credited to this driver. Needs a connection: who drives what is decided by the
 * cloud, never queued on the phone.
 */
export function CheckInCard({
  currentVehicleId,
  online,
  onChanged,
}: {
  currentVehicleId: string | null;
  online: boolean;
  onChanged: (message: string) => Promise<void>;
}) {
  const [vehicles, setVehicles] = useState<Allowed | null>(null);
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
          ? 'Choosing a vehicle needs a connection.'
          : `Your vehicles could not be loaded: ${e instanceof Error ? e.message : 'unknown error'}.`,
      );
    }
  }, []);
  useEffect(() => {
    if (online) void load();
  }, [online, load]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!choice) {
      setError('Choose the vehicle you are driving.');
      return;
    }
    setBusy(true);
    try {
      await driverApi.assignments.checkIn.mutate({ vehicleId: choice });
      const v = vehicles?.find((x) => x.id === choice);
      setChoice('');
      setError(null);
      await load();
      await onChanged(`Checked in to ${v ? label(v) : choice}.`);
    } catch (err) {
      setError(
        isNetworkFailure(err)
          ? 'Checking in needs a connection. Try again when you are online.'
          : `Check-in failed: ${err instanceof Error ? err.message : 'unknown error'}.`,
      );
    } finally {
      setBusy(false);
    }
  };

  const others = vehicles?.filter((v) => v.id !== currentVehicleId) ?? [];
  const current = vehicles?.find((v) => v.id === currentVehicleId);
  return (
    <section aria-labelledby="check-in-title" className="card" data-testid="check-in">
      <h2 id="check-in-title">Vehicle check-in</h2>
      <p data-testid="current-vehicle">
        {currentVehicleId
          ? `You are checked in to ${current ? label(current) : currentVehicleId}.`
          : 'You are not checked in to a vehicle.'}
      </p>
      {vehicles && others.length === 0 ? (
        <p>No other vehicle of your groups is available. Ask your fleet manager to add you to a group.</p>
      ) : null}
      {others.length > 0 ? (
        <form onSubmit={submit} aria-label="Check in to a vehicle" noValidate>
          <fieldset>
            <legend>{currentVehicleId ? 'Change to another vehicle' : 'Check in to a vehicle'}</legend>
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
                {v.takenBy ? ` — now driven by ${v.takenBy}` : ''}
              </label>
            ))}
          </fieldset>
          <button type="submit" aria-busy={busy} disabled={!online}>
            Check in
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
