'use client';

import type { VehicleState } from '@fleet/shared';
import Link from 'next/link';
import { startTransition, useEffect, useMemo, useRef, useState } from 'react';
import { DataTable, numeric } from '../components/data-table.tsx';
import { FleetMap, type MapVehicle } from '../components/fleet-map.tsx';
import { FuelMeter } from '../components/fuel-meter.tsx';
import { goToSignIn, isUnauthorized } from '../lib/auth-redirect.ts';
import {
  formatCount,
  formatNumber,
  formatOnline,
  formatPosition,
  formatTimestamp,
  MISSING,
  toIsoTimestamp,
} from '../lib/format.ts';
import { VEHICLE_STATUS_LABELS, type VehicleStatus } from '../lib/labels.ts';
import { trpc } from '../lib/trpc.ts';
import { useQuery } from '../lib/use-query.ts';

/** Start-to-start poll period while the live feed is down; the edge agents publish about once a second. */
const POLL_INTERVAL_MS = 1000;
/** While the live feed (SSE) is up it carries positions and states; the poll only refreshes the rest. */
const POLL_INTERVAL_LIVE_MS = 10_000;
/** The API's largest page ([1...500]); a bigger fleet is told that it sees only this many. */
const VEHICLE_LIMIT = 500;

type FleetAnswer = Awaited<ReturnType<typeof trpc.telemetry.fleet.query>>;

interface Snapshot {
  vehicles: VehicleState[];
  /** Status per vehicle and the count per status (telemetry.fleet). */
  fleet: FleetAnswer;
  /** Epoch ms when this answer arrived. */
  refreshedAt: number;
}

type LiveVehicle = FleetAnswer['vehicles'][number];

/**
 * live.positions over SSE: the visible fleet first, then each vehicle whose state changed.
 * `connected` is false until the first message and after an error (the poll then takes over).
 */
function useLiveFleet(): { live: Map<string, LiveVehicle>; connected: boolean } {
  const [state, setState] = useState<{ live: Map<string, LiveVehicle>; connected: boolean }>({
    live: new Map(),
    connected: false,
  });
  useEffect(() => {
    const sub = trpc.live.positions.subscribe(undefined, {
      onData: (batch) => {
        // A transition: new data re-renders the table and the map in slices that yield to input
        // and paint, rather than in one long task (as lib/use-query.ts does for the poll).
        startTransition(() =>
          setState((prev) => {
            const live = batch.snapshot ? new Map<string, LiveVehicle>() : new Map(prev.live);
            for (const v of batch.vehicles) live.set(v.vehicleId, v);
            return { live, connected: true };
          }),
        );
      },
      onError: (error) => {
        if (isUnauthorized(error)) goToSignIn();
        setState((prev) => ({ ...prev, connected: false }));
      },
      onConnectionStateChange: (s) => {
        if (s.state !== 'pending')
          setState((prev) => (prev.connected ? { ...prev, connected: false } : prev));
      },
    });
    return () => sub.unsubscribe();
  }, []);
  return state;
}

/** The newer of the poll's and the live feed's view of each vehicle (by sample time). */
function mergeLive(snapshot: Snapshot, live: Map<string, LiveVehicle>): Snapshot {
  if (live.size === 0) return snapshot;
  const fleetById = new Map(snapshot.fleet.vehicles.map((v) => [v.vehicleId, v]));
  for (const v of live.values()) {
    const polled = fleetById.get(v.vehicleId);
    if (!polled || (v.lastSeen ?? 0) >= (polled.lastSeen ?? 0)) fleetById.set(v.vehicleId, v);
  }
  const fleetVehicles = [...fleetById.values()].sort((a, b) => a.vehicleId.localeCompare(b.vehicleId));
  const counts = { ...snapshot.fleet.counts };
  for (const k of Object.keys(counts) as VehicleStatus[]) counts[k] = 0;
  for (const v of fleetVehicles) counts[v.status] = (counts[v.status] ?? 0) + 1;
  const vehicles = snapshot.vehicles.map((row) => {
    const l = live.get(row.vehicleId);
    if (!l || l.lastSeen === null || (row.ts !== null && row.ts > l.lastSeen)) return row;
    return {
      ...row,
      ts: l.lastSeen,
      lat: l.lat,
      lon: l.lon,
      speedKmh: l.speedKmh,
      fuelLevelPct: l.fuelLevelPct,
      online: l.online,
    };
  });
  return { ...snapshot, vehicles, fleet: { ...snapshot.fleet, vehicles: fleetVehicles, counts } };
}

/**
 * The poll: every second while the live feed is down, every 10 s while it carries positions and
 * states. The last good answer is kept (and shown as stale) while later polls fail.
 */
function useFleetPoll(liveConnected: boolean) {
  const liveRef = useRef(liveConnected);
  liveRef.current = liveConnected;
  const poll = useQuery(
    null,
    async (signal): Promise<Snapshot> => {
      // One batched HTTP request for both (httpBatchLink).
      const [vehicles, fleet] = await Promise.all([
        trpc.vehicles.list.query({ limit: VEHICLE_LIMIT }, { signal }),
        trpc.telemetry.fleet.query({ limit: VEHICLE_LIMIT }, { signal }),
      ]);
      return { vehicles, fleet, refreshedAt: Date.now() };
    },
    { refreshMs: () => (liveRef.current ? POLL_INTERVAL_LIVE_MS : POLL_INTERVAL_MS) },
  );
  return { snapshot: poll.data, error: poll.error };
}

/** The raw value for tests and tools; no attribute at all when the vehicle has not reported it. */
function rawValue(value: number | boolean | null): string | undefined {
  return value === null ? undefined : String(value);
}

function VehicleRow({
  vehicle,
  status,
  now,
}: {
  vehicle: VehicleState;
  status: VehicleStatus | undefined;
  now: number;
}) {
  const online = formatOnline(vehicle.online);
  const hasPosition = vehicle.lat !== null && vehicle.lon !== null;
  return (
    <tr data-vehicle-id={vehicle.vehicleId}>
      <th scope="row">
        {/* No prefetch: one RSC request per row while the dashboard loads is work a click may never need. */}
        <Link href={`/vehicles/${encodeURIComponent(vehicle.vehicleId)}`} prefetch={false}>
          {vehicle.vehicleId}
        </Link>
      </th>
      <td data-field="online" data-value={rawValue(vehicle.online)}>
        <span className={`vehicle-status vehicle-status--${online.toLowerCase()}`}>{online}</span>
      </td>
      <td data-field="status" data-value={status}>
        {status ? VEHICLE_STATUS_LABELS[status] : MISSING}
      </td>
      <td className="num" data-field="speedKmh" data-value={rawValue(vehicle.speedKmh)}>
        {formatNumber(vehicle.speedKmh)}
      </td>
      <td className="num" data-field="rpm" data-value={rawValue(vehicle.rpm)}>
        {formatNumber(vehicle.rpm)}
      </td>
      <td className="num" data-field="fuelLevelPct" data-value={rawValue(vehicle.fuelLevelPct)}>
        <FuelMeter pct={vehicle.fuelLevelPct} />
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

const FLEET_COLUMNS = [
  'Vehicle',
  'Connection',
  'Status',
  numeric('Speed (km/h)'),
  numeric('RPM'),
  numeric('Fuel (%)'),
  numeric('Position (lat, lon)'),
  'Last update',
] as const;

function FleetTable({ snapshot, stale }: { snapshot: Snapshot; stale: boolean }) {
  const statusOf = new Map(snapshot.fleet.vehicles.map((v) => [v.vehicleId, v.status]));
  return (
    <DataTable
      className="fleet-table"
      data-stale={stale}
      caption={`Latest state of each vehicle${stale ? ' (stale: the last refresh failed)' : ''}`}
      columns={FLEET_COLUMNS}
    >
      {snapshot.vehicles.map((vehicle) => (
        <VehicleRow
          key={vehicle.vehicleId}
          vehicle={vehicle}
          status={statusOf.get(vehicle.vehicleId)}
          now={snapshot.refreshedAt}
        />
      ))}
    </DataTable>
  );
}

/** `counts` null: not known yet (each count shows "—"). */
function StatusCounts({ counts }: { counts: FleetAnswer['counts'] | null }) {
  return (
    <ul className="status-counts" aria-label="Vehicles per status">
      {(Object.keys(VEHICLE_STATUS_LABELS) as VehicleStatus[]).map((status) => (
        <li key={status} data-status-count={status}>
          <strong>{counts ? formatNumber(counts[status] ?? 0) : MISSING}</strong>{' '}
          {VEHICLE_STATUS_LABELS[status]}
        </li>
      ))}
    </ul>
  );
}

function toMapVehicles(snapshot: Snapshot): MapVehicle[] {
  return snapshot.fleet.vehicles.flatMap((v) =>
    v.lat === null || v.lon === null
      ? []
      : [
          {
            vehicleId: v.vehicleId,
            lat: v.lat,
            lon: v.lon,
            statusLabel: VEHICLE_STATUS_LABELS[v.status],
            moving: v.status === 'moving',
          },
        ],
  );
}

/**
 * The fleet's live view: status counts, a map and the table (the map's text alternative). Polls
 * the API every second and keeps the last answer through outages.
 */
export function FleetOverview({
  tileUrl,
  tileAttribution,
}: {
  tileUrl?: string | null;
  tileAttribution?: string | null;
}) {
  const { live, connected } = useLiveFleet();
  const { snapshot: polled, error } = useFleetPoll(connected);
  const snapshot = useMemo(() => (polled ? mergeLive(polled, live) : null), [polled, live]);
  const count = snapshot?.vehicles.length ?? null;
  // A failed poll makes the data stale only when the live feed is not carrying it either.
  const stale = snapshot !== null && error !== null && !connected;
  const mapVehicles = useMemo(() => (snapshot ? toMapVehicles(snapshot) : []), [snapshot]);

  let countText = 'Loading vehicles…';
  if (count === 0) countText = 'No vehicles have reported yet.';
  else if (count !== null) countText = formatCount(count, 'vehicle');

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
        {/* These lines and the counts below are there from the first paint, with placeholders
            until the first answer: the map and the table do not jump down when it arrives. */}
        <p className="fleet-refreshed">
          {snapshot ? (
            <>
              Last refreshed{' '}
              <time dateTime={toIsoTimestamp(snapshot.refreshedAt)}>
                {formatTimestamp(snapshot.refreshedAt, snapshot.refreshedAt)}
              </time>
            </>
          ) : (
            'Not refreshed yet'
          )}
          {stale && <strong className="stale-badge">Stale</strong>}
        </p>
        <p className="fleet-refreshed" data-field="liveFeed" data-value={connected}>
          {connected
            ? 'Live updates: on'
            : snapshot
              ? 'Live updates: off (refreshing every second)'
              : 'Live updates: connecting'}
        </p>
        {count === VEHICLE_LIMIT && (
          <p className="fleet-limit">Showing the first {VEHICLE_LIMIT} vehicles; the fleet may have more.</p>
        )}
        {/* A status message (WCAG 4.1.3): present from the start so its text is announced once
            when an outage begins; the text stays the same while the outage lasts. */}
        <div role="status" className="fleet-error">
          {error && (
            <p>
              Could not refresh: {error}{' '}
              {connected
                ? 'Positions, speeds and fuel levels still arrive live; RPM may be out of date.'
                : snapshot
                  ? 'The table shows the last data received and is stale.'
                  : 'Retrying every second.'}
            </p>
          )}
        </div>
      </div>
      <StatusCounts counts={snapshot?.fleet.counts ?? null} />
      {/* The map above the table at every width: the table's eight columns need about 60rem, more
          than a side-by-side share of a 1280 px screen leaves (the columns after speed were cut
          off there). Narrower than the table, it scrolls in its own region and says so. */}
      <div className="fleet-panels">
        <figure className="map-figure">
          <FleetMap
            label="Map of vehicle positions"
            vehicles={mapVehicles}
            tileUrl={tileUrl}
            tileAttribution={tileAttribution}
          />
          <figcaption>
            Filled circle: moving; ring: stopped. The table lists the same vehicles with their positions.
          </figcaption>
        </figure>
        {snapshot && snapshot.vehicles.length > 0 && <FleetTable snapshot={snapshot} stale={stale} />}
      </div>
    </section>
  );
}
