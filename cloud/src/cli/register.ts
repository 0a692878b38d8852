/**
 * `fleet-cloud vehicles|drivers|groups`: the fleet register from a terminal (the same queries and
 * imports as the dashboard's admin pages, as the tenant under row-level security, audited).
 *
 *   vehicles list --tenant T [--group ID] [--retired] [--json]
 *   vehicles import FILE --tenant T [--json]    CSV (register/vehicle-csv.ts); idempotent on plate/VIN
 *   drivers list --tenant T [--json]
 *   drivers import FILE --tenant T [--json]     CSV (register/driver-csv.ts); idempotent on e-mail
 *   drivers assign --tenant T --vehicle ID --driver EMAIL [--json]   from now; ends the current ones
 *   groups list --tenant T [--json] | groups create NAME --tenant T [--kind depot|class|other] [--json]
 *
 * Exit status: 0 done, 1 done but some rows were refused (imports), 2 could not run.
 */
import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import type pg from 'pg';
import { forgetCachedSessions } from '../auth/session-cache.ts';
import { openPool } from '../db/pool.ts';
import { appendAudit } from '../db/queries/audit-log.ts';
import { closeCurrentAssignments } from '../db/queries/close-current-assignments.ts';
import { insertAssignment } from '../db/queries/insert-assignment.ts';
import { listDriverRoster } from '../db/queries/list-driver-roster.ts';
import { GROUP_KINDS, type GroupKind, listVehicleGroups } from '../db/queries/list-vehicle-groups.ts';
import { listVehicleRegister } from '../db/queries/list-vehicle-register.ts';
import { upsertVehicleGroup } from '../db/queries/upsert-vehicle-group.ts';
import { inTenant } from '../db/tenant.ts';
import { CloudError, CloudErrorCode, isCloudError } from '../errors.ts';
import type { ImportReport } from '../register/csv-table.ts';
import { DRIVER_CSV_COLUMNS, importDriversCsv } from '../register/driver-csv.ts';
import { importVehiclesCsv, VEHICLE_CSV_COLUMNS } from '../register/vehicle-csv.ts';
import type { CliIo } from './io.ts';

interface Options {
  databaseUrl: string;
  schema?: string;
  tenant: string;
  actor: string;
  json?: boolean;
}

function printReport(
  io: CliIo,
  json: boolean | undefined,
  noun: string,
  r: ImportReport,
  ms: number,
): number {
  if (json) io.out(JSON.stringify({ ...r, ms }));
  else {
    io.out(
      `${r.rows} row(s): ${r.created} ${noun}(s) created, ${r.unchanged} unchanged, ${r.bad} refused (${ms} ms)`,
    );
    for (const e of r.errors) io.out(`  line ${e.line}: ${e.reason}`);
    if (r.bad > r.errors.length) io.out(`  ... and ${r.bad - r.errors.length} more`);
  }
  return r.bad > 0 ? 1 : 0;
}

export function registerRegisterCommands(program: Command, io: CliIo, operator: string): void {
  const opts = (cmd: Command) =>
    ({ ...program.opts(), ...cmd.opts() }) as Options &
      Record<string, string> & { driver: string; vehicle: string };
  const run = async (o: Options, fn: (pool: pg.Pool) => Promise<number>) => {
    try {
      const pool = await openPool({ url: o.databaseUrl, schema: o.schema, max: 2 });
      try {
        process.exitCode = await fn(pool);
      } finally {
        await pool.end();
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      io.err(
        isCloudError(err)
          ? `E${err.code}: ${err.message}`
          : code === '23505' || code === '23P01'
            ? `refused: ${(err as Error).message}`
            : `error: ${(err as Error).message}`,
      );
      process.exitCode = 2;
    }
  };
  const tenantOption = (c: Command) =>
    c
      .requiredOption('--tenant <id>', 'tenant')
      .option('--actor <who>', 'who does this, for the audit log', `user:${operator}`)
      .option('--json', 'one JSON document');

  const vehicles = program.command('vehicles').description('the vehicle register: list, CSV import');
  tenantOption(
    vehicles
      .command('list')
      .description('vehicles in service (with --retired, retired ones too), by id')
      .option('--group <id>', 'only this group')
      .option('--retired', 'include retired vehicles'),
  ).action(async (_o, cmd: Command) => {
    const o = opts(cmd);
    await run(o, async (pool) => {
      const rows = await inTenant(pool, o.tenant, (db) =>
        listVehicleRegister(db, {
          tenantId: o.tenant,
          groupId: o.group ? Number(o.group) : null,
          includeRetired: Boolean(o.retired),
          limit: 100_000,
        }),
      );
      if (o.json) io.out(JSON.stringify(rows));
      else
        for (const v of rows)
          io.out(
            [
              v.id,
              v.plate ?? '-',
              v.vin ?? '-',
              [v.make, v.model].filter(Boolean).join(' ') || '-',
              v.groupName ?? '-',
              v.tankLitres === null ? '-' : `${v.tankLitres} L${v.calibration ? ' (calibrated)' : ''}`,
              v.driverName ?? '-',
              v.retiredAt ? 'retired' : '',
            ].join('\t'),
          );
      return 0;
    });
  });
  tenantOption(
    vehicles
      .command('import <file>')
      .description(
        `import vehicles from a CSV file (header row; columns ${VEHICLE_CSV_COLUMNS.join(', ')}; plate or vin ` +
          'required; calibration as "pct:litres;..."; group by name, created when new). Idempotent on plate and VIN: ' +
          'importing the same file again changes nothing. Bad rows are reported by line.',
      ),
  ).action(async (file: string, _o, cmd: Command) => {
    const o = opts(cmd);
    await run(o, async (pool) => {
      const t0 = Date.now();
      const r = await importVehiclesCsv(pool, o.tenant, o.actor, createReadStream(file));
      return printReport(io, o.json, 'vehicle', r, Date.now() - t0);
    });
  });

  const drivers = program.command('drivers').description('drivers: list, CSV import, assign to a vehicle');
  tenantOption(
    drivers.command('list').description('drivers by name, with their current vehicle and groups'),
  ).action(async (_o, cmd: Command) => {
    const o = opts(cmd);
    await run(o, async (pool) => {
      const rows = await inTenant(pool, o.tenant, (db) =>
        listDriverRoster(db, { tenantId: o.tenant, limit: 100_000, after: null }),
      );
      if (o.json) io.out(JSON.stringify(rows));
      else
        for (const d of rows)
          io.out(
            [d.email, d.name, d.vehicleId ?? '-', d.groups.map((g) => g.name).join(';') || '-'].join('\t'),
          );
      return 0;
    });
  });
  tenantOption(
    drivers
      .command('import <file>')
      .description(
        `import drivers from a CSV file (header row; columns ${DRIVER_CSV_COLUMNS.join(', ')}; email and name ` +
          'required; groups as "A;B"; vehicle by id or plate). Idempotent on e-mail. New drivers sign in after an ' +
          'invitation or a password reset. Bad rows are reported by line.',
      ),
  ).action(async (file: string, _o, cmd: Command) => {
    const o = opts(cmd);
    await run(o, async (pool) => {
      const t0 = Date.now();
      const r = await importDriversCsv(pool, o.tenant, o.actor, createReadStream(file));
      return printReport(io, o.json, 'driver', r, Date.now() - t0);
    });
  });
  tenantOption(
    drivers
      .command('assign')
      .description(
        "a driver drives a vehicle from now on (the vehicle's and the driver's current assignments end now)",
      )
      .requiredOption('--vehicle <id>', 'vehicle id')
      .requiredOption('--driver <email>', "the driver's e-mail"),
  ).action(async (_o, cmd: Command) => {
    const o = opts(cmd);
    await run(o, async (pool) => {
      const id = await inTenant(pool, o.tenant, async (db) => {
        const { rows } = await db.query<{ id: string }>(
          `SELECT id FROM users WHERE tenant_id = $1 AND email = $2 AND role = 'driver'`,
          [o.tenant, o.driver.toLowerCase()],
        );
        if (!rows[0])
          throw new CloudError(CloudErrorCode.ApiNotFound, `no driver ${o.driver} in ${o.tenant}`);
        const { rowCount } = await db.query(
          'SELECT 1 FROM vehicles WHERE id = $1 AND tenant_id = $2 AND retired_at IS NULL',
          [o.vehicle, o.tenant],
        );
        if (!rowCount) throw new CloudError(CloudErrorCode.ApiNotFound, `no vehicle ${o.vehicle} in service`);
        const ended = await closeCurrentAssignments(db, {
          tenantId: o.tenant,
          vehicleId: o.vehicle,
          userId: rows[0].id,
        });
        const assignment = await insertAssignment(db, {
          tenantId: o.tenant,
          vehicleId: o.vehicle,
          userId: rows[0].id,
          from: null,
          to: null,
          source: 'admin',
          createdBy: o.actor,
        });
        await appendAudit(db, {
          tenantId: o.tenant,
          actor: o.actor,
          action: 'assignment.create',
          entity: `vehicle:${o.vehicle}`,
          after: { id: assignment, userId: rows[0].id, from: 'now', to: null, ended },
        });
        return assignment;
      });
      forgetCachedSessions();
      io.out(o.json ? JSON.stringify({ id }) : `assignment ${id}: ${o.driver} drives ${o.vehicle} from now`);
      return 0;
    });
  });

  const groups = program.command('groups').description('groups of vehicles (depots, vehicle classes)');
  tenantOption(
    groups.command('list').description('groups by name, with their vehicle and driver counts'),
  ).action(async (_o, cmd: Command) => {
    const o = opts(cmd);
    await run(o, async (pool) => {
      const rows = await inTenant(pool, o.tenant, (db) => listVehicleGroups(db, o.tenant));
      if (o.json) io.out(JSON.stringify(rows));
      else
        for (const g of rows)
          io.out([g.id, g.name, g.kind, `${g.vehicles} vehicles`, `${g.drivers} drivers`].join('\t'));
      return 0;
    });
  });
  tenantOption(
    groups
      .command('create <name>')
      .description('a new group')
      .option('--kind <kind>', `one of ${GROUP_KINDS.join(', ')}`, 'depot'),
  ).action(async (name: string, _o, cmd: Command) => {
    const o = opts(cmd);
    if (!(GROUP_KINDS as readonly string[]).includes(o.kind!)) {
      io.err(`--kind must be one of ${GROUP_KINDS.join(', ')}`);
      process.exitCode = 2;
      return;
    }
    await run(o, async (pool) => {
      const id = await inTenant(pool, o.tenant, async (db) => {
        const gid = (await upsertVehicleGroup(db, o.tenant, { name, kind: o.kind as GroupKind }))!;
        await appendAudit(db, {
          tenantId: o.tenant,
          actor: o.actor,
          action: 'group.create',
          entity: `group:${gid}`,
          after: { name, kind: o.kind },
        });
        return gid;
      });
      io.out(o.json ? JSON.stringify({ id }) : `group ${id}: ${name}`);
      return 0;
    });
  });
}
