/**
 * A vehicle's fuel level over time as inline SVG rendered by React: no chart library, no inline
 * styles (the strict CSP), styled by the theme's CSS variables. The points are the API's rollup
 * buckets (a year is ~365 points), so the chart costs the same on any range.
 *
 * Refuels and drains are marked with a line, an arrow shape and a text label ("▲ Refuel +40 L"),
 * never by colour alone, and every point and marker is in the tables below the chart.
 */
import { formatAxisTick, formatNumber } from '../lib/format.ts';
import { EVENT_TYPE_LABELS } from '../lib/labels.ts';
import { DataTable, numeric } from './data-table.tsx';
import { UtcTime } from './utc-time.tsx';

export interface FuelPoint {
  t: number;
  pct: number;
  minPct: number;
  maxPct: number;
}

export interface FuelMarker {
  eventId: number;
  type: string;
  start: number;
  end: number;
  volumeL: number | null;
}

const WIDTH = 800;
const HEIGHT = 300;
const PAD = { top: 36, right: 16, bottom: 36, left: 48 };

/** "▲ Refuel +40.0 L" / "▼ Drain −12.5 L": shape and words, not colour, carry the meaning. */
export function markerLabel(m: FuelMarker): string {
  const up = m.type === 'refuel';
  const name = EVENT_TYPE_LABELS[m.type] ?? m.type;
  const volume = m.volumeL === null ? '' : ` ${up ? '+' : '−'}${formatNumber(m.volumeL, 1)} L`;
  return `${up ? '▲' : '▼'} ${name}${volume}`;
}

function niceTicks(from: number, to: number, count: number): number[] {
  const span = to - from;
  if (span <= 0) return [from];
  const steps = [
    60_000,
    300_000,
    900_000,
    3_600_000,
    3 * 3_600_000,
    6 * 3_600_000,
    86_400_000,
    7 * 86_400_000,
    30 * 86_400_000,
  ];
  const step = steps.find((s) => span / s <= count) ?? 90 * 86_400_000;
  const first = Math.ceil(from / step) * step;
  const ticks: number[] = [];
  for (let t = first; t <= to; t += step) ticks.push(t);
  return ticks;
}

export function FuelChart({
  points,
  markers,
  from,
  to,
  title,
}: {
  points: readonly FuelPoint[];
  markers: readonly FuelMarker[];
  from: number;
  to: number;
  title: string;
}) {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (t: number) => PAD.left + ((t - from) / Math.max(1, to - from)) * plotW;
  const y = (pct: number) => PAD.top + (1 - Math.max(0, Math.min(100, pct)) / 100) * plotH;
  const line = points
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.pct).toFixed(1)}`)
    .join('');
  const range =
    points.length > 1
      ? `${points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.maxPct).toFixed(1)}`).join('')}${[
          ...points,
        ]
          .reverse()
          .map((p) => `L${x(p.t).toFixed(1)},${y(p.minPct).toFixed(1)}`)
          .join('')}Z`
      : '';
  const area =
    points.length > 1
      ? `${line}L${x(points.at(-1)!.t).toFixed(1)},${y(0)}L${x(points[0]!.t).toFixed(1)},${y(0)}Z`
      : '';
  const ticks = niceTicks(from, to, 8);
  const fuelMarkers = markers.filter(
    (m) => m.type === 'refuel' || m.type === 'fuel_drain' || m.type === 'fuel_leak',
  );
  const titleId = `fuel-chart-title-${from}`;
  const descId = `fuel-chart-desc-${from}`;
  const refuels = fuelMarkers.filter((m) => m.type === 'refuel').length;
  const losses = fuelMarkers.length - refuels;

  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={`${titleId} ${descId}`}
        data-chart="fuel-level"
      >
        <title id={titleId}>{title}</title>
        <desc id={descId}>
          {points.length === 0
            ? 'No fuel level data in this range.'
            : `Fuel level from ${formatNumber(points[0]!.pct, 0)}% to ${formatNumber(points.at(-1)!.pct, 0)}%, ${refuels} refuel(s) and ${losses} drain(s) or leak(s) marked. The tables below list every value.`}
        </desc>
        <g className="grid">
          {[0, 25, 50, 75, 100].map((pct) => (
            <line key={pct} x1={PAD.left} x2={WIDTH - PAD.right} y1={y(pct)} y2={y(pct)} />
          ))}
        </g>
        <g className="axis">
          <line x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={PAD.top + plotH} />
          <line x1={PAD.left} x2={WIDTH - PAD.right} y1={PAD.top + plotH} y2={PAD.top + plotH} />
          {[0, 25, 50, 75, 100].map((pct) => (
            <text key={pct} x={PAD.left - 6} y={y(pct) + 4} textAnchor="end">
              {pct}%
            </text>
          ))}
          {ticks.map((t) => (
            <text key={t} x={x(t)} y={HEIGHT - 12} textAnchor="middle">
              {formatAxisTick(t, to - from)}
            </text>
          ))}
        </g>
        <g>
          {area && <path className="series-area" d={area} />}
          {range && <path className="series-range" d={range} />}
          {line && <path className="series-line" d={line} />}
        </g>
        <g>
          {fuelMarkers.map((m, i) => {
            const refuel = m.type === 'refuel';
            const mx = x(m.start);
            const label = markerLabel(m);
            // Alternate label rows so neighbouring markers do not overprint each other.
            const ly = 14 + (i % 2) * 16;
            const anchorEnd = mx > WIDTH - 160;
            return (
              <g
                key={`${m.type}-${m.eventId}`}
                className={`marker marker--${refuel ? 'refuel' : 'drain'}`}
                data-marker={m.type}
              >
                <line x1={mx} x2={mx} y1={ly + 4} y2={PAD.top + plotH} />
                <path
                  d={
                    refuel
                      ? `M${mx - 6},${PAD.top + plotH - 2}l6,-10l6,10z`
                      : `M${mx - 6},${PAD.top + plotH - 12}l6,10l6,-10z`
                  }
                />
                <text x={anchorEnd ? mx - 4 : mx + 4} y={ly} textAnchor={anchorEnd ? 'end' : 'start'}>
                  {label}
                </text>
              </g>
            );
          })}
        </g>
      </svg>
      <figcaption>
        Line: fuel level per {points.length > 1 ? 'interval' : 'sample'}; shaded band: lowest to highest in
        each interval. ▲ marks a refuel, ▼ a drain or leak.
      </figcaption>
    </figure>
  );
}

export function FuelMarkerTable({ markers }: { markers: readonly FuelMarker[] }) {
  if (markers.length === 0) return <p>No refuels, drains or leaks in this range.</p>;
  return (
    <DataTable
      data-table="fuel-markers"
      caption="Refuels, drains and leaks in this range"
      columns={['Event', 'From', 'To', numeric('Volume (L)')]}
    >
      {markers.map((m) => (
        <tr key={`${m.type}-${m.eventId}`} data-marker-row={m.type}>
          <th scope="row">{markerLabel(m)}</th>
          <td>
            <UtcTime ms={m.start} />
          </td>
          <td>
            <UtcTime ms={m.end} />
          </td>
          <td className="num">{formatNumber(m.volumeL, 1)}</td>
        </tr>
      ))}
    </DataTable>
  );
}

export function FuelPointTable({ points }: { points: readonly FuelPoint[] }) {
  return (
    <details>
      <summary>Fuel level values as a table ({points.length} rows)</summary>
      <DataTable
        caption="Fuel level per interval (UTC)"
        columns={['Interval start', numeric('Average (%)'), numeric('Lowest (%)'), numeric('Highest (%)')]}
      >
        {points.map((p) => (
          <tr key={p.t}>
            <th scope="row">
              <UtcTime ms={p.t} />
            </th>
            <td className="num">{formatNumber(p.pct, 1)}</td>
            <td className="num">{formatNumber(p.minPct, 1)}</td>
            <td className="num">{formatNumber(p.maxPct, 1)}</td>
          </tr>
        ))}
      </DataTable>
    </details>
  );
}
