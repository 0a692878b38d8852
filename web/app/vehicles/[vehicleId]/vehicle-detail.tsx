'use client';

import { TRPCClientError } from '@trpc/client';
import Link from 'next/link';
import { useState } from 'react';
import { AgentHealthPanel } from '../../../components/agent-health.tsx';
import { DataTable, numeric } from '../../../components/data-table.tsx';
import { FuelChart, FuelMarkerTable, FuelPointTable } from '../../../components/fuel-chart.tsx';
import { UtcTime } from '../../../components/utc-time.tsx';
import { VehicleHealthPanels } from '../../../components/vehicle-health/vehicle-health-panels.tsx';
import { allowedTo, useMe } from '../../../lib/access.ts';
import { formatNumber, formatPosition, MISSING } from '../../../lib/format.ts';
import { EVENT_TYPE_LABELS, humanize } from '../../../lib/labels.ts';
import { trpc } from '../../../lib/trpc.ts';
import { useQuery } from '../../../lib/use-query.ts';

type FuelSeries = Awaited<ReturnType<typeof trpc.telemetry.fuelSeries.query>>;
type Events = Awaited<ReturnType<typeof trpc.telemetry.events.query>>;
type Latest = Awaited<ReturnType<typeof trpc.vehicles.get.query>> | null;
type Consumption = Awaited<ReturnType<typeof trpc.fuel.consumption.query>>;
type Trips = Awaited<ReturnType<typeof trpc.trips.list.query>>;

const DAY = 86_400_000;
/**
 * A vehicle just added to the register has no latest state until its agent sends a sample:
 * vehicles.get answers NOT_FOUND then, which is news for the admin who is installing it, not an error.
 */
const noDataYet = (err: unknown): null => {
  if (err instanceof TRPCClientError && (err.data as { code?: string } | undefined)?.code === 'NOT_FOUND')
    return null;
  throw err;
};
/** A new vehicle's first samples may lack OBD fields: "—", not "— %". */
const withUnit = (text: string, unit: string) => (text === MISSING ? MISSING : `${text} ${unit}`);
const RANGES = [
  { id: '1d', label: '24 hours', ms: DAY },
  { id: '7d', label: '7 days', ms: 7 * DAY },
  { id: '30d', label: '30 days', ms: 30 * DAY },
  { id: '365d', label: '1 year', ms: 365 * DAY },
] as const;
/** The API's longest event and trip window (telemetry.events, trips.list). */
const EVENTS_MAX_MS = 92 * DAY;

interface Loaded {
  latest: Latest;
  series: FuelSeries;
  events: Events;
  consumption: Consumption;
  trips: Trips;
  from: number;
  to: number;
}

export function VehicleDetail({ vehicleId }: { vehicleId: string }) {
  const [rangeId, setRangeId] = useState<(typeof RANGES)[number]['id']>('7d');
  const { data, error } = useQuery({ vehicleId, rangeId }, async (signal): Promise<Loaded> => {
    const range = RANGES.find((r) => r.id === rangeId)!;
    const to = Date.now();
    const from = to - range.ms;
    const opts = { signal };
    const [latest, series, events, consumption, trips] = await Promise.all([
      trpc.vehicles.get.query({ vehicleId }, opts).catch(noDataYet),
      trpc.telemetry.fuelSeries.query({ vehicleId, from, to }, opts),
      trpc.telemetry.events.query(
        { vehicleId, from: Math.max(from, to - EVENTS_MAX_MS), to, limit: 200 },
        opts,
      ),
      trpc.fuel.consumption.query({ vehicleId, from, to }, opts),
      trpc.trips.list.query({ vehicleId, from: Math.max(from, to - EVENTS_MAX_MS), to, limit: 50 }, opts),
    ]);
    return { latest, series, events, consumption, trips, from, to };
  });

  const use = data?.consumption ?? null;
  const dtcs = data?.events.items.filter((e) => e.type === 'dtc') ?? [];
  const others = data?.events.items.filter((e) => e.type !== 'dtc') ?? [];

  return (
    <>
      <p>
        <Link href="/">← Back to the fleet overview</Link>
      </p>
      <div role="status">{error && <p className="error-text">Could not load this vehicle: {error}</p>}</div>
      {data && !data.latest && (
        <p data-section="latest">
          No data from {vehicleId} yet: its latest state shows here once its agent sends the first sample.
        </p>
      )}
      {data?.latest && (
        <dl className="detail-grid" data-section="latest">
          <div>
            <dt>Fuel level</dt>
            <dd data-field="fuelLevelPct">{withUnit(formatNumber(data.latest.fuelLevelPct, 1), '%')}</dd>
          </div>
          <div>
            <dt>Speed</dt>
            <dd>{withUnit(formatNumber(data.latest.speedKmh), 'km/h')}</dd>
          </div>
          <div>
            <dt>Position</dt>
            <dd>{formatPosition(data.latest.lat, data.latest.lon)}</dd>
          </div>
          <div>
            <dt>Last report</dt>
            <dd>
              <UtcTime ms={data.latest.ts} />
            </dd>
          </div>
        </dl>
      )}

      <section aria-labelledby="fuel-heading">
        <h2 id="fuel-heading">Fuel level</h2>
        <fieldset className="filters">
          <legend>Time range</legend>
          <div className="actions">
            {RANGES.map((r) => (
              <button
                key={r.id}
                type="button"
                className={r.id === rangeId ? undefined : 'button--secondary'}
                aria-pressed={r.id === rangeId}
                onClick={() => setRangeId(r.id)}
              >
                {r.label}
              </button>
            ))}
          </div>
        </fieldset>
        {data ? (
          <>
            <FuelChart
              points={data.series.points}
              markers={data.series.markers}
              from={data.from}
              to={data.to}
              title={`Fuel level of ${vehicleId}, last ${RANGES.find((r) => r.id === rangeId)!.label}`}
            />
            {use && (
              <dl className="detail-grid" data-section="consumption">
                <div>
                  <dt>Distance</dt>
                  <dd>{formatNumber(use.km, 1)} km</dd>
                </div>
                <div>
                  <dt>Used driving (excluding drains)</dt>
                  <dd>
                    {use.consumedL === null
                      ? `${formatNumber(use.usedPct, 1)} % of tank`
                      : `${formatNumber(use.consumedL, 1)} L`}
                  </dd>
                </div>
                <div>
                  <dt>Consumption</dt>
                  <dd>
                    {use.litresPer100Km === null
                      ? `${MISSING} (tank size unknown)`
                      : `${formatNumber(use.litresPer100Km, 1)} L/100 km`}
                  </dd>
                </div>
                <div>
                  <dt>Bought on fuel cards</dt>
                  <dd>{formatNumber(use.purchasedL, 1)} L</dd>
                </div>
                <div>
                  <dt>Refuelled</dt>
                  <dd>{formatNumber(use.refuelledL, 1)} L</dd>
                </div>
                <div>
                  <dt>Lost to drains and leaks</dt>
                  <dd>{formatNumber(use.lostL, 1)} L</dd>
                </div>
              </dl>
            )}
            <FuelMarkerTable markers={data.series.markers} />
            <FuelPointTable points={data.series.points} />
          </>
        ) : (
          !error && <p>Loading…</p>
        )}
      </section>

      <VehicleAgentHealth vehicleId={vehicleId} />

      <section aria-labelledby="trips-heading">
        <h2 id="trips-heading">Trips</h2>
        {data &&
          (data.trips.items.length === 0 ? (
            <p>No trips in this range.</p>
          ) : (
            <TripTable trips={data.trips.items} />
          ))}
      </section>

      <section aria-labelledby="dtc-heading">
        <h2 id="dtc-heading">Diagnostic trouble codes</h2>
        <p>
          <Link href={`/vehicles/${encodeURIComponent(vehicleId)}/diagnostics`}>
            Diagnostics and remote commands
          </Link>
        </p>
        {data &&
          (dtcs.length === 0 ? (
            <p>No trouble codes reported in this range.</p>
          ) : (
            <EventTable caption="Trouble codes reported" items={dtcs} name="dtcs" />
          ))}
      </section>

      <VehicleHealth vehicleId={vehicleId} />

      <section aria-labelledby="events-heading">
        <h2 id="events-heading">Driving and engine events</h2>
        {data &&
          (others.length === 0 ? (
            <p>No events in this range.</p>
          ) : (
            <EventTable
              caption="Events detected on the vehicle (up to 92 days)"
              items={others}
              name="events"
            />
          ))}
      </section>
    </>
  );
}

/** The vehicle-health panels, for the roles with `vehicles:health` (technicians and managers). */
function VehicleHealth({ vehicleId }: { vehicleId: string }) {
  const role = useMe().data?.role;
  if (role !== 'admin' && role !== 'fleet_manager' && role !== 'technician') return null;
  return (
    <section aria-labelledby="vehicle-health-heading">
      <h2 id="vehicle-health-heading">Vehicle health</h2>
      <VehicleHealthPanels vehicleId={vehicleId} />
    </section>
  );
}

/** The agent-health panel, for the roles that look after devices (the API answers FORBIDDEN to others). */
function VehicleAgentHealth({ vehicleId }: { vehicleId: string }) {
  const role = useMe().data?.role;
  const allowed = allowedTo(role, '/admin/devices');
  const { data, error } = useQuery(allowed ? { vehicleId } : null, (signal) =>
    allowed ? trpc.devices.health.query({ vehicleId }, { signal }) : Promise.resolve(null),
  );
  if (!allowed) return null;
  return (
    <section aria-labelledby="agent-health-heading">
      <h2 id="agent-health-heading">Agent health</h2>
      {error ? <p className="error-text">Could not load the agent's health: {error}</p> : null}
      {data?.[0] ? <AgentHealthPanel health={data[0]} /> : null}
    </section>
  );
}

function detailText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([k, v]) => `${humanize(k)}: ${typeof v === 'number' ? formatNumber(v, 1) : String(v)}`)
    .join(', ');
}

function TripTable({ trips }: { trips: Trips['items'] }) {
  return (
    <DataTable
      data-table="trips"
      caption="Trips, newest first (up to 50 in the last 92 days): driving until a stop of more than 5 minutes"
      columns={[
        'Started',
        'Ended',
        numeric('Driving'),
        numeric('Distance'),
        numeric('Top speed'),
        numeric('Fuel level'),
      ]}
    >
      {trips.map((t) => (
        <tr key={t.start}>
          <th scope="row">
            <UtcTime ms={t.start} />
          </th>
          <td>
            <UtcTime ms={t.end} />
          </td>
          <td className="num">{formatNumber(t.drivingMinutes)} min</td>
          <td className="num">{formatNumber(t.distanceKm, 1)} km</td>
          <td className="num">{formatNumber(t.maxSpeedKmh)} km/h</td>
          <td className="num">
            {formatNumber(t.fuelStartPct, 1)} % → {formatNumber(t.fuelEndPct, 1)} %
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

function EventTable({ caption, items, name }: { caption: string; items: Events['items']; name: string }) {
  return (
    <DataTable
      data-table={name}
      caption={caption}
      columns={['Event', 'When', 'Details', numeric('Confidence')]}
    >
      {items.map((e) => (
        <tr key={`${e.type}-${e.eventId}`}>
          <th scope="row">
            {EVENT_TYPE_LABELS[e.type] ?? humanize(e.type)}
            {typeof e.details.code === 'string' ? ` ${e.details.code}` : ''}
          </th>
          <td>
            <UtcTime ms={e.start} />
          </td>
          <td>{detailText(e.details) || MISSING}</td>
          <td className="num">{formatNumber(e.confidence * 100)} %</td>
        </tr>
      ))}
    </DataTable>
  );
}
