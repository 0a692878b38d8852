'use client';

/**
 * Spreadsheets in (registry.import, roster.import): a CSV file (RFC 4180, first row the column
 * names) is read in the browser and sent as text; the answer says what was created, what was
 * there already (importing the same file again changes nothing) and every refused row by line.
 */
import { type FormEvent, useId, useState } from 'react';
import { DataTable, numeric } from '../../../components/data-table.tsx';
import { useAuthRedirect } from '../../../lib/auth-redirect.ts';
import { formatNumber } from '../../../lib/format.ts';
import { trpc } from '../../../lib/trpc.ts';

type Report = Awaited<ReturnType<typeof trpc.registry.import.mutate>>;
/** The API's limit (cloud/src/api/routers/registry.ts MAX_IMPORT_BYTES); larger files: `fleet-cloud ... import`. */
const MAX_BYTES = 4_000_000;

function ImportForm({
  what,
  columns,
  send,
}: {
  what: 'vehicles' | 'drivers';
  columns: string;
  send: (csv: string) => Promise<Report>;
}) {
  const id = useId();
  const [file, setFile] = useState<File | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [busy, setBusy] = useState(false);
  const onError = useAuthRedirect(setFileError);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) {
      setFileError('Choose a CSV file.');
      return;
    }
    if (file.size > MAX_BYTES) {
      setFileError(
        `The file is larger than ${formatNumber(MAX_BYTES / 1e6)} MB: import it with fleet-cloud ${what} import.`,
      );
      return;
    }
    setBusy(true);
    try {
      setReport(await send(await file.text()));
      setFileError(null);
    } catch (err) {
      setReport(null);
      onError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>{what === 'vehicles' ? 'Vehicles' : 'Drivers'}</h2>
      <p id={`${id}-columns`}>Columns: {columns}</p>
      <form onSubmit={submit} noValidate aria-labelledby={`${id}-heading`}>
        <div className="field">
          <label htmlFor={`${id}-file`}>CSV file of {what}</label>
          <input
            id={`${id}-file`}
            type="file"
            accept=".csv,text/csv"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            aria-invalid={fileError ? true : undefined}
            aria-describedby={`${id}-columns${fileError ? ` ${id}-file-error` : ''}`}
          />
          {fileError ? (
            <p id={`${id}-file-error`} className="field-error" role="alert">
              <span aria-hidden="true">⚠ </span>
              {fileError}
            </p>
          ) : null}
        </div>
        <p className="actions">
          <button type="submit" aria-busy={busy}>
            Import {what}
          </button>
        </p>
      </form>
      <div role="status" aria-live="polite">
        {report ? (
          <p className="notice" data-import-report={what}>
            {formatNumber(report.rows)} rows read: {formatNumber(report.created)} {what} created,{' '}
            {formatNumber(report.unchanged)} already there (left as they are), {formatNumber(report.bad)}{' '}
            refused.
          </p>
        ) : null}
      </div>
      {report && report.errors.length > 0 ? (
        <DataTable
          data-table={`${what}-import-errors`}
          caption={`Refused rows of the ${what} file, by line`}
          columns={[numeric('Line'), 'Reason']}
        >
          {report.errors.map((e) => (
            <tr key={e.line}>
              <td className="num">{e.line}</td>
              <td>{e.reason}</td>
            </tr>
          ))}
        </DataTable>
      ) : null}
    </section>
  );
}

export function ImportForms() {
  return (
    <>
      <p>
        Importing the same file again changes nothing: vehicles are matched by plate and VIN, drivers by
        e-mail. New drivers sign in after an invitation or a password reset.
      </p>
      <ImportForm
        what="vehicles"
        columns="id, plate, vin, make, model, year, fuel_type, vehicle_class, tank_litres, calibration (“0:0;50:210;100:400”), odometer_offset_km, group, cost_centre, monthly_fuel_budget — plate or vin on every row."
        send={(csv) => trpc.registry.import.mutate({ csv })}
      />
      <ImportForm
        what="drivers"
        columns="email, name, groups (“Depot A;Depot B”), vehicle (id or plate) — email and name on every row."
        send={(csv) => trpc.roster.import.mutate({ csv })}
      />
    </>
  );
}
