'use client';

/**
 * A vehicle's health for technicians (issue 18 §2), from `vehicleHealth.*`:
 *   - trouble codes with their SAE J2012 text, the MIL, PIDs 21/31 and the freeze frame of each;
 *   - the battery at each engine start: resting voltage and cranking dip, a trend chart and the
 *     same figures as a table (the chart's text alternative), with the fitted trend;
 *   - service 06 monitors: misfire counts per cylinder against their limit over the reads (chart
 *     and table) and the catalyst tests against their limits.
 * The anomaly model's daily scores are not here: the agent sends an `engine_anomaly` event only
 * over its threshold, not a score per day nor the PIDs that drove it, so there is nothing cheap to
 * show yet.
 */
import { formatNumber, MISSING } from '../../lib/format.ts';
import { humanize } from '../../lib/labels.ts';
import { trpc } from '../../lib/trpc.ts';
import { useQuery } from '../../lib/use-query.ts';
import { DataTable, numeric } from '../data-table.tsx';
import { UtcTime } from '../utc-time.tsx';

type Codes = Awaited<ReturnType<typeof trpc.vehicleHealth.codes.query>>;
type Battery = Awaited<ReturnType<typeof trpc.vehicleHealth.battery.query>>;
type Monitors = Awaited<ReturnType<typeof trpc.vehicleHealth.monitors.query>>;

const DAY = 86_400_000;
/** What the panels look back over: long enough for a battery's slow decline. */
const WINDOW_MS = 90 * DAY;

export function VehicleHealthPanels({ vehicleId }: { vehicleId: string }) {
  const { data, error } = useQuery({ vehicleId }, async (signal) => {
    const to = Date.now() + 60_000;
    const input = { vehicleId, from: to - WINDOW_MS, to, limit: 100 };
    const [codes, battery, monitors] = await Promise.all([
      trpc.vehicleHealth.codes.query(input, { signal }),
      trpc.vehicleHealth.battery.query(input, { signal }),
      trpc.vehicleHealth.monitors.query(input, { signal }),
    ]);
    return { codes, battery, monitors };
  });
  return (
    <div data-section="vehicle-health">
      <div role="status">
        {error && <p className="error-text">Could not load the vehicle's health: {error}</p>}
      </div>
      {!data && !error && <p>Loading…</p>}
      {data && (
        <>
          <CodesPanel codes={data.codes} />
          <BatteryPanel battery={data.battery} />
          <MonitorsPanel monitors={data.monitors} />
        </>
      )}
    </div>
  );
}

function CodesPanel({ codes }: { codes: Codes }) {
  return (
    <section aria-labelledby="health-codes-heading">
      <h3 id="health-codes-heading">Trouble codes</h3>
      <p data-field="mil">
        Check-engine lamp (MIL): {codes.milOn === null ? 'unknown' : codes.milOn ? 'on' : 'off'}
      </p>
      {codes.codes.length === 0 ? (
        <p>No trouble codes reported in the last 90 days.</p>
      ) : (
        <DataTable
          data-table="health-codes"
          caption="Trouble codes as reported, newest last, with the freeze frame stored with each"
          columns={[
            'Code',
            'Reported',
            'Kind',
            numeric('Driven with MIL on'),
            numeric('Since codes cleared'),
            'Freeze frame',
          ]}
        >
          {codes.codes.map((c) => (
            <tr key={c.eventId}>
              <th scope="row">
                {c.code} {c.description ?? ''}
              </th>
              <td>
                <UtcTime ms={c.ts} />
              </td>
              <td>{c.kind ?? MISSING}</td>
              <td className="num">{km(c.distanceMilOnKm)}</td>
              <td className="num">{km(c.distanceSinceClearKm)}</td>
              <td>{c.freezeFrame ? frameText(c.freezeFrame) : 'none stored'}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}

const km = (v: number | null) => (v === null ? MISSING : `${formatNumber(v)} km`);
const volts = (v: number | null) => (v === null ? MISSING : `${formatNumber(v, 2)} V`);

function frameText(frame: Record<string, unknown>): string {
  return Object.entries(frame)
    .map(([k, v]) => `${humanize(k)}: ${typeof v === 'number' ? formatNumber(v, 1) : String(v)}`)
    .join(', ');
}

function BatteryPanel({ battery }: { battery: Battery }) {
  const { starts, trend } = battery;
  const summary =
    trend.slopeVPerStart === null
      ? 'Too few starts with a cranking reading for a trend.'
      : `Cranking dip ${trend.slopeVPerStart < 0 ? 'falling' : 'steady or rising'} by ${formatNumber(Math.abs(trend.slopeVPerStart), 2)} V per start over the last ${trend.starts} starts${trend.falling ? ': the battery is weakening' : ''}.`;
  return (
    <section aria-labelledby="health-battery-heading">
      <h3 id="health-battery-heading">Battery at each engine start</h3>
      {starts.length === 0 ? (
        <p>No engine starts reported in the last 90 days.</p>
      ) : (
        <>
          <p data-field="battery-trend">{summary}</p>
          <TrendChart
            id="battery"
            title="Battery voltage at each engine start"
            description={`${starts.length} starts. ${summary} The table below lists every value.`}
            unit="V"
            series={[
              { name: 'Resting', className: 'series-line', values: starts.map((s) => s.restingV) },
              {
                name: 'Cranking dip',
                className: 'series-line series-line--c1',
                values: starts.map((s) => s.crankV),
              },
            ]}
            limit={{ value: 9.6, label: '9.6 V load-test limit' }}
          />
          <DataTable
            data-table="health-battery"
            caption="Battery per engine start: resting before it, lowest while cranking, charging after it"
            columns={[
              'Start',
              numeric('Resting'),
              numeric('Cranking dip'),
              numeric('Charging'),
              'Needs attention',
            ]}
          >
            {starts.map((s) => (
              <tr key={s.ts}>
                <th scope="row">
                  <UtcTime ms={s.ts} />
                </th>
                <td className="num">{volts(s.restingV)}</td>
                <td className="num">{volts(s.crankV ?? s.lowestV)}</td>
                <td className="num">{volts(s.runningV)}</td>
                <td>{s.low ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </DataTable>
        </>
      )}
    </section>
  );
}

function MonitorsPanel({ monitors }: { monitors: Monitors }) {
  const { reads } = monitors;
  const cylinders = [...new Set(reads.flatMap((r) => r.misfire.map((c) => c.cylinder)))].sort(
    (a, b) => a - b,
  );
  const limit = reads.at(-1)?.misfire.find((c) => c.limit !== null)?.limit ?? null;
  const catalyst = reads.at(-1)?.catalyst ?? [];
  const status =
    monitors.misfiring.length > 0
      ? `Misfiring over the limit: cylinder ${monitors.misfiring.join(', ')}.`
      : 'No cylinder over its misfire limit in the latest read.';
  return (
    <section aria-labelledby="health-monitors-heading">
      <h3 id="health-monitors-heading">On-board monitors (mode 06)</h3>
      {reads.length === 0 ? (
        <p>No monitor results: the vehicle does not report mode 06 (it needs CAN), or none read yet.</p>
      ) : (
        <>
          <p data-field="misfire-status">{status}</p>
          <TrendChart
            id="misfire"
            title="Misfire counts per cylinder, this driving cycle, at each read"
            description={`${reads.length} reads. ${status} The table below lists every value.`}
            unit="counts"
            series={cylinders.map((cyl, i) => ({
              name: `Cylinder ${cyl}`,
              className: `series-line series-line--c${i % 4}`,
              values: reads.map((r) => r.misfire.find((c) => c.cylinder === cyl)?.count ?? null),
            }))}
            limit={limit === null ? null : { value: limit, label: `limit ${formatNumber(limit)}` }}
          />
          <DataTable
            data-table="health-misfire"
            caption="Misfire counts per cylinder at each read (this driving cycle; the limit is the manufacturer's)"
            columns={['Read', ...cylinders.map((c) => numeric(`Cylinder ${c}`)), numeric('Limit')]}
          >
            {reads.map((r) => (
              <tr key={r.ts}>
                <th scope="row">
                  <UtcTime ms={r.ts} />
                </th>
                {cylinders.map((cyl) => {
                  const c = r.misfire.find((m) => m.cylinder === cyl);
                  return (
                    <td key={cyl} className="num">
                      {formatNumber(c?.count ?? null)}
                    </td>
                  );
                })}
                <td className="num">
                  {formatNumber(r.misfire.find((m) => m.limit !== null)?.limit ?? null)}
                </td>
              </tr>
            ))}
          </DataTable>
          {catalyst.length > 0 && (
            <DataTable
              data-table="health-catalyst"
              caption="Catalyst tests in the latest read, against their limits (raw values)"
              columns={[
                'Catalyst',
                numeric('Test'),
                numeric('Value'),
                numeric('Min'),
                numeric('Max'),
                'Result',
              ]}
            >
              {catalyst.map((c) => (
                <tr key={`${c.bank}-${c.tid}`}>
                  <th scope="row">Bank {c.bank}</th>
                  <td className="num">{c.tid.toString(16).toUpperCase()}</td>
                  <td className="num">{formatNumber(c.value)}</td>
                  <td className="num">{formatNumber(c.min)}</td>
                  <td className="num">{formatNumber(c.max)}</td>
                  <td>{c.passed ? 'passed' : 'failed'}</td>
                </tr>
              ))}
            </DataTable>
          )}
        </>
      )}
    </section>
  );
}

/** The line pattern of series i (globals.css: series-line--c0...c3), named in the caption. */
const PATTERNS = ['solid line', 'dashed line', 'dotted line', 'dash-dot line'];
const W = 640;
const H = 200;
const PAD = { left: 56, right: 16, top: 16, bottom: 28 };

/** An inline-SVG line chart over the reads in order (x: read number), with an optional limit line. */
function TrendChart({
  id,
  title,
  description,
  unit,
  series,
  limit,
}: {
  id: string;
  title: string;
  description: string;
  unit: string;
  series: { name: string; className: string; values: (number | null)[] }[];
  limit: { value: number; label: string } | null;
}) {
  const all = [
    ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)),
    ...(limit ? [limit.value] : []),
  ];
  const lo = all.length ? Math.min(...all) : 0;
  const hi = all.length ? Math.max(...all) : 1;
  const pad = (hi - lo) * 0.1 || 1;
  const [min, max] = [lo - pad, hi + pad];
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const x = (i: number) => PAD.left + (n === 1 ? 0.5 : i / (n - 1)) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - (v - min) / (max - min)) * (H - PAD.top - PAD.bottom);
  const path = (values: (number | null)[]) => {
    let d = '';
    let pen = false;
    values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    return d;
  };
  const ticks = [min + pad, (min + max) / 2, max - pad];
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby={`${id}-chart-title ${id}-chart-desc`}
        data-chart={id}
      >
        <title id={`${id}-chart-title`}>{title}</title>
        <desc id={`${id}-chart-desc`}>{description}</desc>
        <g className="grid">
          {ticks.map((t) => (
            <line key={t} x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
          ))}
        </g>
        <g className="axis">
          <line x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={H - PAD.bottom} />
          <line x1={PAD.left} x2={W - PAD.right} y1={H - PAD.bottom} y2={H - PAD.bottom} />
          {ticks.map((t) => (
            <text key={t} x={PAD.left - 6} y={y(t) + 4} textAnchor="end">
              {formatNumber(t, unit === 'V' ? 1 : 0)}
            </text>
          ))}
          <text x={W / 2} y={H - 8} textAnchor="middle">
            oldest → newest
          </text>
        </g>
        {limit && (
          <g className="marker marker--drain">
            <line
              x1={PAD.left}
              x2={W - PAD.right}
              y1={y(limit.value)}
              y2={y(limit.value)}
              strokeDasharray="4 4"
            />
            <text x={W - PAD.right} y={y(limit.value) - 4} textAnchor="end">
              {limit.label}
            </text>
          </g>
        )}
        <g>
          {series.map((s) => (
            <path key={s.name} className={s.className} d={path(s.values)} fill="none" />
          ))}
        </g>
      </svg>
      <figcaption>
        {series.map((s, i) => `${s.name} (${PATTERNS[i % PATTERNS.length]})`).join(', ')}, in {unit}
        {limit ? `; dashed: ${limit.label}` : ''}.
      </figcaption>
    </figure>
  );
}
