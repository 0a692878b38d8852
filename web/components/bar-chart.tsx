/**
 * Grouped horizontal bars as inline SVG rendered by React (no chart library, no inline styles:
 * the strict CSP), for the report builder. One group per row, one bar per series. Each series has
 * its own fill AND outline style (solid, outlined, dark), named in the legend, and every bar
 * carries its value as text, so neither colour nor length alone carries a number.
 *
 * `BarChartTable` is its text alternative: the same rows and the same series, the same numbers.
 */
import { formatNumber, MISSING } from '../lib/format.ts';
import { DataTable, numeric } from './data-table.tsx';

export interface BarSeries {
  key: string;
  label: string;
}

export interface BarRow {
  label: string;
  values: Record<string, number | null>;
}

const WIDTH = 800;
const BAR_H = 14;
const GAP = 10;
const LABEL_W = 230;
const VALUE_W = 90;
const PAD_TOP = 34;

/** Decimals a number is shown with: as many as it has, at most 2 (the report rounded it). */
export const decimalsOf = (v: number) => (Number.isInteger(v) ? 0 : Math.round(v * 10) === v * 10 ? 1 : 2);
export const formatValue = (v: number | null | undefined) =>
  v === null || v === undefined ? MISSING : formatNumber(v, decimalsOf(v));

export function BarChart({
  id,
  title,
  unit,
  series,
  rows,
}: {
  id: string;
  title: string;
  unit: string;
  series: readonly BarSeries[];
  rows: readonly BarRow[];
}) {
  const groupH = series.length * BAR_H + GAP;
  const height = PAD_TOP + rows.length * groupH + 8;
  const values = rows.flatMap((r) => series.map((s) => r.values[s.key] ?? 0));
  const max = Math.max(0, ...values);
  const min = Math.min(0, ...values);
  const plotW = WIDTH - LABEL_W - VALUE_W;
  const x = (v: number) => LABEL_W + ((v - min) / Math.max(1e-9, max - min)) * plotW;
  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  return (
    <figure className="chart" data-chart={id}>
      <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-labelledby={`${titleId} ${descId}`}>
        <title id={titleId}>{title}</title>
        <desc id={descId}>
          {rows.length === 0
            ? 'No data in this period.'
            : `${rows.length} bar group(s) of ${series.map((s) => s.label).join(', ')}${unit ? ` (${unit})` : ''}. The table after the chart lists every value.`}
        </desc>
        <g className="legend">
          {series.map((s, i) => (
            <g key={s.key}>
              <rect className={`bar bar--${i}`} x={LABEL_W + i * 170} y={8} width={18} height={BAR_H} />
              <text x={LABEL_W + i * 170 + 24} y={19}>
                {s.label}
              </text>
            </g>
          ))}
        </g>
        <g className="axis">
          <line x1={x(0)} x2={x(0)} y1={PAD_TOP - 4} y2={height - 4} />
        </g>
        {rows.map((r, gi) => {
          const y0 = PAD_TOP + gi * groupH;
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: two groups may share a label; the order is the report's.
            <g key={`${r.label}-${gi}`}>
              <text x={LABEL_W - 8} y={y0 + (series.length * BAR_H) / 2 + 4} textAnchor="end">
                {r.label.length > 34 ? `${r.label.slice(0, 33)}…` : r.label}
              </text>
              {series.map((s, si) => {
                const v = r.values[s.key];
                const y = y0 + si * BAR_H;
                const a = x(Math.min(0, v ?? 0));
                const b = x(Math.max(0, v ?? 0));
                return (
                  <g key={s.key}>
                    {v !== null && v !== undefined && (
                      <rect
                        className={`bar bar--${si}`}
                        x={a}
                        y={y + 1}
                        width={Math.max(1, b - a)}
                        height={BAR_H - 2}
                      />
                    )}
                    <text x={b + 4} y={y + BAR_H - 3}>
                      {formatValue(v)}
                    </text>
                  </g>
                );
              })}
            </g>
          );
        })}
      </svg>
      <figcaption>
        {title}
        {unit ? ` (${unit})` : ''}. Each bar is labelled with its value; the table below has the same numbers.
      </figcaption>
    </figure>
  );
}

/** The chart's text alternative: one row per bar group, one column per series. */
export function BarChartTable({
  id,
  caption,
  labelHeader,
  series,
  rows,
}: {
  id: string;
  caption: string;
  /** What names each row (e.g. "Vehicle · Week"). */
  labelHeader: string;
  series: readonly BarSeries[];
  rows: readonly BarRow[];
}) {
  return (
    <DataTable
      data-table={id}
      caption={caption}
      columns={[labelHeader, ...series.map((s) => numeric(s.label))]}
    >
      {rows.map((r, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: two rows may share a label; the order is the report's.
        <tr key={`${r.label}-${i}`}>
          <th scope="row">{r.label}</th>
          {series.map((s) => (
            <td key={s.key} className="num" data-key={s.key}>
              {formatValue(r.values[s.key])}
            </td>
          ))}
        </tr>
      ))}
    </DataTable>
  );
}
