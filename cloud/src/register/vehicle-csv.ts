/**
 * `fleet-cloud vehicles import FILE` and the dashboard's upload: vehicles from a spreadsheet into
 * the register, in one transaction as the tenant (row-level security).
 *
 *   id, plate, vin, make, model, year, fuel_type, vehicle_class, tank_litres,
 *   calibration ("pct:litres;pct:litres;..."), odometer_offset_km, group (a name; created when
 *   new), cost_centre, monthly_fuel_budget            (plate or vin required per row)
 *
 * Idempotent on plate and VIN: a row whose plate or VIN names a vehicle in service is left as it
 * is ("unchanged"), so importing the same file twice changes nothing. A row that contradicts the
 * register (its plate is one vehicle's and its VIN another's) or the file itself (a plate twice)
 * is reported by line and reason, and never stops the good rows. Writes are set-based (one
 * INSERT per 500 rows), so a thousand vehicles take one transaction of a few statements.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { appendAudit } from '../db/queries/audit-log.ts';
import { ensureVehicleGroups } from '../db/queries/ensure-vehicle-groups.ts';
import { insertVehicles, type VehicleToInsert } from '../db/queries/insert-vehicles.ts';
import { inTenant } from '../db/tenant.ts';
import { type ImportReport, issuesText, numberCell, readCsvTable, reportCollector } from './csv-table.ts';
import { NewVehicle } from './vehicle-fields.ts';

export const VEHICLE_CSV_COLUMNS = [
  'id',
  'plate',
  'vin',
  'make',
  'model',
  'year',
  'fuel_type',
  'vehicle_class',
  'tank_litres',
  'calibration',
  'odometer_offset_km',
  'group',
  'cost_centre',
  'monthly_fuel_budget',
] as const;

const BATCH = 500;

/** "0:0;50:210;100:400" -> [{pct, litres}, ...]; text that is not pairs of numbers is kept for zod to refuse. */
function calibrationCell(cell: string | undefined): unknown {
  if (cell === undefined) return undefined;
  const pairs = cell.split(';').map((p) => p.split(':').map((x) => numberCell(x.trim())));
  if (pairs.some((p) => p.length !== 2 || p.some((x) => typeof x !== 'number')))
    return 'calibration must be "pct:litres;pct:litres;..."';
  return pairs.map(([pct, litres]) => ({ pct, litres }));
}

/** A vehicle id for a row without one: the agent's broker login, so random, never derived from a plate. */
const newVehicleId = () => `veh-${randomBytes(6).toString('hex')}`;

export async function importVehiclesCsv(
  pool: pg.Pool,
  tenantId: string,
  actor: string,
  chunks: AsyncIterable<string | Buffer> | Iterable<string>,
  opts: { maxErrors?: number } = {},
): Promise<ImportReport & { createdIds: string[] }> {
  const { report, bad } = reportCollector(opts.maxErrors ?? 200);
  const { rows, total } = await readCsvTable(
    chunks,
    { known: VEHICLE_CSV_COLUMNS, required: [['plate', 'vin']] },
    bad,
  );
  report.rows = total;

  // 1. Each row on its own: the same checks as the dashboard's form.
  const valid: { line: number; group: string | undefined; v: NewVehicle }[] = [];
  for (const { line, cells } of rows) {
    const parsed = NewVehicle.safeParse({
      ...(cells.id !== undefined && { id: cells.id }),
      plate: cells.plate ?? null,
      vin: cells.vin ?? null,
      make: cells.make ?? null,
      model: cells.model ?? null,
      year: numberCell(cells.year) ?? null,
      fuelType: cells.fuel_type?.toLowerCase() ?? null,
      vehicleClass: cells.vehicle_class ?? null,
      tankLitres: numberCell(cells.tank_litres) ?? null,
      calibration: calibrationCell(cells.calibration) ?? null,
      odometerOffsetKm: numberCell(cells.odometer_offset_km) ?? 0,
      costCentre: cells.cost_centre ?? null,
      monthlyFuelBudget: numberCell(cells.monthly_fuel_budget) ?? null,
    });
    if (!parsed.success) bad(line, issuesText(parsed.error.issues));
    else if (cells.group !== undefined && cells.group.length > 100)
      bad(line, 'group: at most 100 characters');
    else valid.push({ line, group: cells.group, v: parsed.data });
  }

  // 2. The file against itself: a plate, VIN or id twice is a mistake in the sheet.
  const firstLine = new Map<string, number>();
  const distinct = valid.filter(({ line, v }) => {
    const keys = [v.plate && `plate ${v.plate}`, v.vin && `VIN ${v.vin}`, v.id && `id ${v.id}`].filter(
      (k): k is string => !!k,
    );
    const repeat = keys.find((k) => firstLine.has(k));
    if (repeat) {
      bad(line, `${repeat} is on line ${firstLine.get(repeat)} already`);
      return false;
    }
    for (const k of keys) firstLine.set(k, line);
    return true;
  });

  const createdIds = await inTenant(pool, tenantId, async (db) => {
    // 3. The file against the register: rows naming a vehicle in service are left alone.
    const { rows: known } = await db.query<{ id: string; plate: string | null; vin: string | null }>(
      `SELECT id, plate, vin FROM vehicles
        WHERE tenant_id = $1 AND ((retired_at IS NULL AND (plate = ANY ($2) OR vin = ANY ($3))) OR id = ANY ($4))`,
      [
        tenantId,
        distinct.flatMap(({ v }) => (v.plate ? [v.plate] : [])),
        distinct.flatMap(({ v }) => (v.vin ? [v.vin] : [])),
        distinct.flatMap(({ v }) => (v.id ? [v.id] : [])),
      ],
    );
    const byPlate = new Map(known.filter((k) => k.plate).map((k) => [k.plate!, k]));
    const byVin = new Map(known.filter((k) => k.vin).map((k) => [k.vin!, k]));
    const byId = new Map(known.map((k) => [k.id, k]));
    const fresh: typeof distinct = [];
    for (const row of distinct) {
      const { v, line } = row;
      const p = v.plate ? byPlate.get(v.plate) : undefined;
      const n = v.vin ? byVin.get(v.vin) : undefined;
      const match = p ?? n ?? (v.id ? byId.get(v.id) : undefined);
      if (!match) {
        fresh.push(row);
        continue;
      }
      if (p && n && p.id !== n.id)
        bad(line, `plate ${v.plate} is vehicle ${p.id}'s and VIN ${v.vin} is ${n.id}'s`);
      else if (v.id && v.id !== match.id)
        bad(line, `id ${v.id} differs from vehicle ${match.id} with the same plate or VIN`);
      else if (v.vin && match.vin && v.vin !== match.vin)
        bad(line, `plate ${v.plate} is vehicle ${match.id}'s, whose VIN is ${match.vin}, not ${v.vin}`);
      else if (v.plate && match.plate && v.plate !== match.plate)
        bad(line, `VIN ${v.vin} is vehicle ${match.id}'s, whose plate is ${match.plate}, not ${v.plate}`);
      else if (!p && !n) bad(line, `id ${v.id} is another vehicle's (retired or with another plate and VIN)`);
      else report.unchanged++;
    }

    // 4. New vehicles, in batches of one statement each; their groups first.
    const groups = await ensureVehicleGroups(
      db,
      tenantId,
      fresh.flatMap((r) => (r.group ? [r.group] : [])),
    );
    const created: string[] = [];
    for (let i = 0; i < fresh.length; i += BATCH) {
      const batch = fresh.slice(i, i + BATCH).map((r) => ({
        line: r.line,
        v: {
          ...r.v,
          id: r.v.id ?? newVehicleId(),
          groupId: r.group ? groups.get(r.group)! : null,
        } as VehicleToInsert,
      }));
      const stored = await insertVehicles(
        db,
        tenantId,
        batch.map((b) => b.v),
      );
      for (const b of batch) {
        if (stored.has(b.v.id)) created.push(b.v.id);
        else bad(b.line, `vehicle id ${b.v.id} is taken`);
      }
    }
    report.created = created.length;
    if (created.length > 0)
      await appendAudit(db, {
        tenantId,
        actor,
        action: 'vehicle.import',
        entity: `tenant:${tenantId}`,
        after: { created: created.length, unchanged: report.unchanged, bad: report.bad, ids: created },
      });
    return created;
  });
  report.errors.sort((a, b) => a.line - b.line);
  return { ...report, createdIds };
}
