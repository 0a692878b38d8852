/**
 * `fleet-cloud drivers import FILE` and the dashboard's upload: drivers from a spreadsheet, in
 * one transaction as the tenant (row-level security).
 *
 *   email (required), name (required), groups ("Depot A;Depot B": the vehicles they may check in
 *   to; created when new), vehicle (a vehicle id or plate they drive from now on)
 *
 * Idempotent on e-mail: a driver whose e-mail is in the tenant already is left as they are
 * ("unchanged"). A new driver gets an unusable password: they sign in after an invitation or a
 * password reset, never with something the spreadsheet's author knows. Bad rows are reported by
 * line and reason; the others are written set-based (users, groups, assignments: one statement
 * each per 500 rows).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { z } from 'zod';
import { appendAudit } from '../db/queries/audit-log.ts';
import { ensureVehicleGroups } from '../db/queries/ensure-vehicle-groups.ts';
import { inTenant } from '../db/tenant.ts';
import { type ImportReport, issuesText, readCsvTable, reportCollector } from './csv-table.ts';

export const DRIVER_CSV_COLUMNS = ['email', 'name', 'groups', 'vehicle'] as const;

/** Not an argon2 hash: verifyPassword() refuses every password against it (auth/passwords.ts). */
export const NO_PASSWORD = '!imported: sign in after an invitation or a password reset';

const BATCH = 500;

const DriverRow = z.object({
  email: z.email().max(254).toLowerCase(),
  name: z.string().trim().min(1).max(100),
  groups: z.array(z.string().trim().min(1).max(100)).max(20),
  vehicle: z.string().trim().min(1).max(64).optional(),
});

export async function importDriversCsv(
  pool: pg.Pool,
  tenantId: string,
  actor: string,
  chunks: AsyncIterable<string | Buffer> | Iterable<string>,
  opts: { maxErrors?: number } = {},
): Promise<ImportReport & { createdIds: string[] }> {
  const { report, bad } = reportCollector(opts.maxErrors ?? 200);
  const { rows, total } = await readCsvTable(
    chunks,
    { known: DRIVER_CSV_COLUMNS, required: ['email', 'name'] },
    bad,
  );
  report.rows = total;

  const firstLine = new Map<string, number>();
  const valid: { line: number; d: z.infer<typeof DriverRow> }[] = [];
  for (const { line, cells } of rows) {
    const parsed = DriverRow.safeParse({
      email: cells.email ?? '',
      name: cells.name ?? '',
      groups: cells.groups ? cells.groups.split(';').filter((g) => g.trim() !== '') : [],
      ...(cells.vehicle !== undefined && { vehicle: cells.vehicle }),
    });
    if (!parsed.success) {
      bad(line, issuesText(parsed.error.issues));
      continue;
    }
    const seen = firstLine.get(parsed.data.email);
    if (seen) {
      bad(line, `e-mail ${parsed.data.email} is on line ${seen} already`);
      continue;
    }
    firstLine.set(parsed.data.email, line);
    valid.push({ line, d: parsed.data });
  }

  const createdIds = await inTenant(pool, tenantId, async (db) => {
    // Known e-mails of this tenant: drivers stay as they are, anyone else is a mistake in the sheet.
    const { rows: known } = await db.query<{ email: string; role: string }>(
      'SELECT email, role FROM users WHERE tenant_id = $1 AND email = ANY ($2)',
      [tenantId, valid.map((v) => v.d.email)],
    );
    const roleOf = new Map(known.map((k) => [k.email, k.role]));
    const fresh = valid.filter(({ line, d }) => {
      const role = roleOf.get(d.email);
      if (role === undefined) return true;
      if (role === 'driver') report.unchanged++;
      else bad(line, `${d.email} is a user with role ${role}, not a driver`);
      return false;
    });

    // The vehicles named: in service, nobody drives them now, and named by one row only.
    const { rows: vehicles } = await db.query<{ id: string; plate: string | null; taken: boolean }>(
      `SELECT v.id, v.plate,
              EXISTS (SELECT 1 FROM vehicle_assignments a WHERE a.vehicle_id = v.id AND a.ends_at IS NULL) AS taken
         FROM vehicles v
        WHERE v.tenant_id = $1 AND v.retired_at IS NULL AND (v.id = ANY ($2) OR v.plate = ANY ($3))`,
      [
        tenantId,
        fresh.flatMap((r) => (r.d.vehicle ? [r.d.vehicle] : [])),
        fresh.flatMap((r) => (r.d.vehicle ? [r.d.vehicle.toUpperCase()] : [])),
      ],
    );
    const vehicleOf = new Map<string, { id: string; taken: boolean }>();
    for (const v of vehicles) {
      vehicleOf.set(v.id, v);
      if (v.plate) vehicleOf.set(v.plate, v);
    }
    const claimed = new Map<string, number>();
    const ready: { line: number; id: string; d: z.infer<typeof DriverRow>; vehicleId: string | null }[] = [];
    for (const { line, d } of fresh) {
      let vehicleId: string | null = null;
      if (d.vehicle) {
        const v = vehicleOf.get(d.vehicle) ?? vehicleOf.get(d.vehicle.toUpperCase());
        if (!v) {
          bad(line, `vehicle ${d.vehicle}: no vehicle in service has this id or plate`);
          continue;
        }
        if (v.taken) {
          bad(line, `vehicle ${d.vehicle} has a driver now: end that assignment first`);
          continue;
        }
        if (claimed.has(v.id)) {
          bad(line, `vehicle ${d.vehicle} is given to line ${claimed.get(v.id)}'s driver already`);
          continue;
        }
        claimed.set(v.id, line);
        vehicleId = v.id;
      }
      ready.push({ line, id: randomUUID(), d, vehicleId });
    }

    const groups = await ensureVehicleGroups(
      db,
      tenantId,
      ready.flatMap((r) => r.d.groups),
    );
    const created: string[] = [];
    for (let i = 0; i < ready.length; i += BATCH) {
      const batch = ready.slice(i, i + BATCH);
      // ON CONFLICT: the e-mail belongs to an account of another tenant (invisible here).
      const { rows: inserted } = await db.query<{ id: string }>(
        `INSERT INTO users (id, tenant_id, email, name, role, password_hash)
         SELECT id, $1, email, name, 'driver', $2 FROM unnest($3::text[], $4::text[], $5::text[]) AS x(id, email, name)
         ON CONFLICT (email) DO NOTHING
         RETURNING id`,
        [
          tenantId,
          NO_PASSWORD,
          batch.map((r) => r.id),
          batch.map((r) => r.d.email),
          batch.map((r) => r.d.name),
        ],
      );
      const stored = new Set(inserted.map((r) => r.id));
      const ok = batch.filter((r) => {
        if (stored.has(r.id)) return true;
        bad(r.line, 'this e-mail belongs to another account');
        return false;
      });
      const memberships = ok.flatMap((r) => r.d.groups.map((g) => [r.id, groups.get(g)!] as const));
      if (memberships.length > 0)
        await db.query(
          `INSERT INTO driver_groups (tenant_id, user_id, group_id)
           SELECT $1, u, g FROM unnest($2::text[], $3::bigint[]) AS x(u, g) ON CONFLICT DO NOTHING`,
          [tenantId, memberships.map((m) => m[0]), memberships.map((m) => m[1])],
        );
      const driving = ok.filter((r) => r.vehicleId);
      if (driving.length > 0)
        await db.query(
          `INSERT INTO vehicle_assignments (tenant_id, vehicle_id, user_id, starts_at, source, created_by)
           SELECT $1, v, u, now(), 'import', $2 FROM unnest($3::text[], $4::text[]) AS x(v, u)`,
          [tenantId, actor, driving.map((r) => r.vehicleId), driving.map((r) => r.id)],
        );
      created.push(...ok.map((r) => r.id));
    }
    report.created = created.length;
    if (created.length > 0)
      await appendAudit(db, {
        tenantId,
        actor,
        action: 'driver.import',
        entity: `tenant:${tenantId}`,
        after: { created: created.length, unchanged: report.unchanged, bad: report.bad, ids: created },
      });
    return created;
  });
  report.errors.sort((a, b) => a.line - b.line);
  return { ...report, createdIds };
}
