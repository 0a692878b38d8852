'use client';

import type { VehicleState } from '@fleet/shared';
import { TRPCClientError } from '@trpc/client';
import { useEffect, useState } from 'react';
import {
  formatNumber,
  formatOnline,
  formatPosition,
  formatTimestamp,
  formatVehicleCount,
  toIsoTimestamp,
} from '../lib/format.ts';
import { trpc } from '../lib/trpc.ts';

/** Start-to-start poll period; the edge agents publish about once a second. */
const POLL_INTERVAL_MS = 1000;
/** The API's largest page ([1...500]); a bigger fleet is told that it sees only this many. */
const VEHICLE_LIMIT = 500;

interface Snapshot {
  vehicles: VehicleState[];
  /** Epoch ms when this answer arrived. */
  refreshedAt: number;
}

interface FleetPoll {
  /** The last good answer, kept (and shown as stale) while later polls fail. */
  snapshot: Snapshot | null;
  /** Why the latest poll failed; null once a poll succeeds again. */
  error: string | null;
}

function isUnauthorized(error: unknown): boolean {
  return (
    error instanceof TRPCClientError && (error.data as { code?: string } | undefined)?.code === 'UNAUTHORIZED'
  );
}

function describeError(error: unknown): string {
  return error instanceof Error && error.message ? error.message : 'Unknown error.';
}

function useFleetPoll(): FleetPoll {
  const [poll, setPoll] = useState<FleetPoll>({ snapshot: null, error: null });

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;

    const tick = async () => {
      const startedAt = Date.now();
      try {
        const vehicles = await trpc.vehicles.list.query(
          { limit: VEHICLE_LIMIT },
          { signal: controller.signal },
        );
        if (controller.signal.aborted) return;
        setPoll({ snapshot: { vehicles, refreshedAt: Date.now() }, error: null });
      } catch (error) {
        if (controller.signal.aborted) return;
        if (isUnauthorized(error)) {
          // Not signed in, or the session expired: sign in, then come back here.
          window.location.assign('/login');
          return;
        }
        setPoll((previous) => ({ snapshot: previous.snapshot, error: describeError(error) }));
      }
      // Chained, not setInterval: a slow answer delays the next poll instead of stacking requests.
      timer = setTimeout(tick, Math.max(0, POLL_INTERVAL_MS - (Date.now() - startedAt)));
    };
    void tick();

    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, []);

  return poll;
}

/** The raw value for tests and tools; no attribute at all when the vehicle has not reported it. */
function rawValue(value: number | boolean | null): string | undefined {
  return value === null ? undefined : String(value);
}

function VehicleRow({ vehicle, now }: { vehicle: VehicleState; now: number }) {
  const status = formatOnline(vehicle.online);
  const hasPosition = vehicle.lat !== null && vehicle.lon !== null;
  return (
    <tr data-vehicle-id={vehicle.vehicleId}>
      <th scope="row">{vehicle.vehicleId}</th>
      <td data-field="online" data-value={rawValue(vehicle.online)}>
        <span className={`vehicle-status vehicle-status--${status.toLowerCase()}`}>{status}</span>
      </td>
      <td className="num" data-field="speedKmh" data-value={rawValue(vehicle.speedKmh)}>
        {formatNumber(vehicle.speedKmh)}
      </td>
      <td className="num" data-field="rpm" data-value={rawValue(vehicle.rpm)}>
        {formatNumber(vehicle.rpm)}
      </td>
      <td className="num" data-field="fuelLevelPct" data-value={rawValue(vehicle.fuelLevelPct)}>
        {formatNumber(vehicle.fuelLevelPct, 1)}
      </td>
      <td
        className="num"
        data-field="position"
        data-value={hasPosition ? `${vehicle.lat},${vehicle.lon}` : undefined}
      >
        {formatPosition(vehicle.lat, vehicle.lon)}
      </td>
      <td data-field="ts" data-value={rawValue(vehicle.ts)}>
        <time dateTime={toIsoTimestamp(vehicle.ts)}>{formatTimestamp(vehicle.ts, now)}</time>
      </td>
    </tr>
  );
}

function FleetTable({ snapshot, stale }: { snapshot: Snapshot; stale: boolean }) {
  return (
    <div className="table-scroll">
      <table className="fleet-table" data-stale={stale}>
        <caption>Latest state of each vehicle{stale ? ' (stale: the last refresh failed)' : ''}</caption>
        <thead>
          <tr>
            <th scope="col">Vehicle</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Speed (km/h)
            </th>
            <th scope="col" className="num">
              RPM
            </th>
            <th scope="col" className="num">
              Fuel (%)
            </th>
            <th scope="col" className="num">
              Position (lat, lon)
            </th>
            <th scope="col">Last update</th>
          </tr>
        </thead>
        <tbody>
          {snapshot.vehicles.map((vehicle) => (
            <VehicleRow key={vehicle.vehicleId} vehicle={vehicle} now={snapshot.refreshedAt} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The fleet's live table: polls the API every second and keeps the last answer through outages. */
export function FleetOverview() {
  const { snapshot, error } = useFleetPoll();
  const count = snapshot?.vehicles.length ?? null;
  const stale = snapshot !== null && error !== null;

  let countText = 'Loading vehicles…';
  if (count === 0) countText = 'No vehicles have reported yet.';
  else if (count !== null) countText = formatVehicleCount(count);

  return (
    <section aria-labelledby="fleet-heading" className="fleet-overview">
      <h2 id="fleet-heading" className="visually-hidden">
        Vehicles
      </h2>
      <div className="fleet-status">
        {/* Only this text is live, and it changes only with the count: no announcement per poll. */}
        <p className="fleet-count" aria-live="polite" aria-atomic="true" data-field="vehicleCount">
          {countText}
        </p>
        {snapshot && (
          <p className="fleet-refreshed">
            Last refreshed{' '}
            <time dateTime={toIsoTimestamp(snapshot.refreshedAt)}>
              {formatTimestamp(snapshot.refreshedAt, snapshot.refreshedAt)}
            </time>
            {stale && <strong className="stale-badge">Stale</strong>}
          </p>
        )}
        {count === VEHICLE_LIMIT && (
          <p className="fleet-limit">Showing the first {VEHICLE_LIMIT} vehicles; the fleet may have more.</p>
        )}
        {/* A status message (WCAG 4.1.3): present from the start so its text is announced once
            when an outage begins; the text stays the same while the outage lasts. */}
        <div role="status" className="fleet-error">
          {error && (
            <p>
              Could not refresh: {error}{' '}
              {snapshot ? 'The table shows the last data received and is stale.' : 'Retrying every second.'}
            </p>
          )}
        </div>
      </div>
      {snapshot && snapshot.vehicles.length > 0 && <FleetTable snapshot={snapshot} stale={stale} />}
    </section>
  );
}
