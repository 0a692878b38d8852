'use client';

/**
 * The tank calibration table's editor: one row per measured point, sender % → litres. The
 * problems of each row (shared/src/tank-calibration.ts, the function the cloud checks with) show
 * beside the row's inputs as it is typed, so a refused table never needs a round trip to explain.
 */
import type { CalibrationProblem } from '@fleet/shared';

export interface CalibrationRow {
  pct: string;
  litres: string;
}

export function CalibrationEditor({
  rows,
  onChange,
  problems,
  error,
}: {
  rows: CalibrationRow[];
  onChange: (rows: CalibrationRow[]) => void;
  /** Per-row problems, by 0-based row. */
  problems: readonly CalibrationProblem[];
  /** A problem of the whole table (from the API). */
  error?: string | null;
}) {
  const set = (i: number, change: Partial<CalibrationRow>) =>
    onChange(rows.map((r, j) => (j === i ? { ...r, ...change } : r)));
  return (
    <fieldset className="wide calibration-table" aria-describedby="cal-help">
      <legend>Tank calibration table (optional)</legend>
      <p id="cal-help" className="muted">
        Sender reading in % and the litres in the tank at that reading, from 0 % to 100 %, each row higher
        than the one before in both columns. Without a table, litres are the reading times the tank capacity.
      </p>
      {rows.length > 0 ? (
        <table>
          <caption className="visually-hidden">Calibration rows</caption>
          <thead>
            <tr>
              <th scope="col">Row</th>
              <th scope="col">Sender %</th>
              <th scope="col">Litres</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => {
              const mine = problems.filter((p) => p.row === i);
              const errorId = `cal-${i}-error`;
              const bad = (field: 'pct' | 'litres') => mine.some((p) => p.field === field) || undefined;
              return (
                // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional.
                <tr key={i}>
                  <th scope="row">{i + 1}</th>
                  <td>
                    <label htmlFor={`cal-${i}-pct`} className="visually-hidden">
                      Row {i + 1} sender %
                    </label>
                    <input
                      id={`cal-${i}-pct`}
                      inputMode="decimal"
                      value={r.pct}
                      onChange={(e) => set(i, { pct: e.target.value })}
                      aria-invalid={bad('pct')}
                      aria-describedby={mine.length ? errorId : undefined}
                    />
                  </td>
                  <td>
                    <label htmlFor={`cal-${i}-litres`} className="visually-hidden">
                      Row {i + 1} litres
                    </label>
                    <input
                      id={`cal-${i}-litres`}
                      inputMode="decimal"
                      value={r.litres}
                      onChange={(e) => set(i, { litres: e.target.value })}
                      aria-invalid={bad('litres')}
                      aria-describedby={mine.length ? errorId : undefined}
                    />
                    {mine.length ? (
                      <p id={errorId} className="field-error">
                        <span aria-hidden="true">⚠ </span>
                        {mine.map((p) => p.message).join('; ')}
                      </p>
                    ) : null}
                  </td>
                  <td>
                    <button
                      type="button"
                      className="button--secondary"
                      onClick={() => onChange(rows.filter((_, j) => j !== i))}
                    >
                      Remove<span className="visually-hidden"> row {i + 1}</span>
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      {error ? (
        <p className="field-error">
          <span aria-hidden="true">⚠ </span>
          {error}
        </p>
      ) : null}
      <p className="actions">
        <button
          type="button"
          className="button--secondary"
          onClick={() => onChange([...rows, { pct: '', litres: '' }])}
        >
          Add a row
        </button>
        {rows.length > 0 ? (
          <button type="button" className="button--secondary" onClick={() => onChange([])}>
            Remove the table
          </button>
        ) : null}
      </p>
    </fieldset>
  );
}
