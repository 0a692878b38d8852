/**
 * The demo fleet's first start, step by step (scripts/lib/stack.ts runs them in this order):
 *
 *   1. registerDemoFleet   groups, vehicles (plate, tank, calibration), a geofence, a manager and
 *                          drivers (invitation + acceptance), driver assignments over the week:
 *                          the administration procedures, over HTTP, signed in as the admin
 *   2. history-main.ts     each vehicle's week into its agent's SQLite store (history.ts)
 *   3. (the stack starts the real agents: they backfill the week over MQTT into the ingest)
 *   4. importDemoPurchases the fuel-card provider's CSV export of the week: one purchase per real
 *                          refuel, one inflated, one with no refuel at all (cloud/src/fuel/csv-import.ts)
 *   5. waitForBackfill     until the cloud holds every sample and event of the week
 *   6. reconcileTenant     the purchases against the refuels the vehicles detected (cloud/src/fuel)
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type pg from 'pg';
import { inTenant } from '../../../cloud/src/db/tenant.ts';
import { importFuelCsv } from '../../../cloud/src/fuel/csv-import.ts';
import type { AdminApi } from './admin-api.ts';
import { DEMO_GEOFENCE, DEMO_GROUPS, DEMO_PEOPLE, type DemoVehicle, demoCalibration } from './fleet.ts';
import type { HistoryResult } from './history.ts';

const DAY_MS = 86_400_000;

/** The week played: the 7 days up to today's midnight (UTC), so its content is the same any time of day. */
export function historyWindow(nowMs: number): { fromMs: number; toMs: number } {
  const toMs = Math.floor(nowMs / DAY_MS) * DAY_MS;
  return { fromMs: toMs - 7 * DAY_MS, toMs };
}

export interface DemoSignIn {
  email: string;
  password: string;
  role: string;
  name: string;
  /** Printed beside the admin's (the demo manager and driver); the other drivers' are not. */
  shown: boolean;
}

/** Registers the fleet through the administration procedures; returns the people's sign-ins. */
export async function registerDemoFleet(
  admin: AdminApi,
  anonymous: AdminApi,
  vehicles: readonly DemoVehicle[],
  historyFromMs: number,
): Promise<DemoSignIn[]> {
  const groupIds = new Map<string, number>();
  for (const g of DEMO_GROUPS) groupIds.set(g.name, (await admin.mutate('groups', 'create', g)).id);
  for (const v of vehicles) {
    await admin.mutate('registry', 'create', {
      id: v.id,
      plate: v.plate,
      vin: v.vin,
      make: v.make,
      model: v.model,
      year: v.year,
      fuelType: v.fuelType,
      vehicleClass: v.vehicleClass,
      tankLitres: v.tankLitres,
      calibration: demoCalibration(v),
      odometerOffsetKm: 0,
      groupId: groupIds.get(v.group) ?? null,
      costCentre: v.costCentre,
      monthlyFuelBudget: v.monthlyFuelBudget,
    });
  }
  await admin.mutate('geofences', 'create', { ...DEMO_GEOFENCE, alertOnEnter: true, alertOnExit: true });

  const people: DemoSignIn[] = [];
  for (const p of DEMO_PEOPLE) {
    const vehicle = p.vehicleIndex === undefined ? undefined : vehicles[p.vehicleIndex];
    if (p.role === 'driver' && !vehicle) continue;
    const password = randomBytes(12).toString('base64url');
    const invite = await admin.mutate('users', 'invite', {
      email: p.email,
      name: p.name,
      role: p.role,
      ...(vehicle ? { vehicleId: vehicle.id } : {}),
    });
    const inviteToken = new URL(invite.link, 'http://invite.local').hash.replace(/^#token=/, '');
    const me = await anonymous.mutate('auth', 'acceptInvite', { inviteToken, password });
    people.push({ email: p.email, password, role: p.role, name: p.name, shown: p.shown });
    if (!vehicle) continue;
    // Accepting made the driver's assignment open from now on; the week before it was theirs too
    // (a period that ends where that one begins: periods never overlap).
    const current = await admin.query('assignments', 'list', {
      vehicleId: vehicle.id,
      userId: me.userId,
      currentOnly: true,
      limit: 1,
    });
    const since = current.items[0]?.from;
    if (since)
      await admin.mutate('assignments', 'assign', {
        vehicleId: vehicle.id,
        userId: me.userId,
        from: historyFromMs,
        to: since,
      });
  }
  return people;
}

const STATIONS = [
  'Aral Leopoldstr. 12',
  'Shell Karlsplatz',
  'Esso Isartorplatz',
  'OMV Landsberger Str. 90',
  'Jet Ring 3',
];
const PRICE_PER_L = { diesel: 1.69, petrol: 1.79 } as const;

export interface DemoPurchase {
  externalId: string;
  vehicleId: string;
  ts: number;
  litres: number;
  station: string;
  lat: number;
  lon: number;
  fuelType: 'diesel' | 'petrol';
  /** Why it is in the export: a real refuel, the same with inflated litres, or no refuel at all. */
  kind: 'refuel' | 'inflated' | 'no_refuel';
}

/**
 * What the fuel-card provider's export says about the week: each real refuel (ground truth) paid
 * two minutes after the pump stopped, at the pump's position; the vehicle's `cards` extras on top.
 */
export function demoPurchases(
  vehicle: DemoVehicle,
  history: Pick<HistoryResult, 'labels' | 'drives'>,
): DemoPurchase[] {
  const out: DemoPurchase[] = [];
  let n = 0;
  for (const label of history.labels) {
    if (label.type !== 'refuel' || label.rescue) continue;
    n++;
    const inflated = vehicle.cards.fraudRefuel?.n === n;
    const litres =
      Math.round((label.volumeL + (inflated ? vehicle.cards.fraudRefuel!.extraL : 0)) * 100) / 100;
    out.push({
      externalId: `DEMO-${vehicle.id}-${n}`,
      vehicleId: vehicle.id,
      ts: (label.end ?? label.start) + 120_000,
      litres,
      station: STATIONS[(vehicle.seed + n) % STATIONS.length]!,
      lat: label.lat,
      lon: label.lon,
      fuelType: vehicle.fuelType,
      kind: inflated ? 'inflated' : 'refuel',
    });
  }
  const noRiseAtS = vehicle.cards.noRiseAtS;
  if (noRiseAtS !== undefined && history.drives.length > 0) {
    // In the middle of the first drive of half an hour or more from that time on, well away from
    // any refuel: the tank was being read, and it did not rise.
    const from = history.drives[0]![0] - (history.drives[0]![0] % DAY_MS) + noRiseAtS * 1000;
    const refuels = history.labels.filter((l) => l.type === 'refuel').map((l) => l.start);
    const drive = history.drives.find(
      ([a, b]) =>
        a >= from && b - a >= 30 * 60_000 && refuels.every((r) => Math.abs(r - (a + b) / 2) > 2 * 3_600_000),
    );
    if (drive) {
      out.push({
        externalId: `DEMO-${vehicle.id}-X`,
        vehicleId: vehicle.id,
        ts: Math.round((drive[0] + drive[1]) / 2 / 1000) * 1000,
        litres: 42.5,
        station: STATIONS[0]!,
        lat: 48.1458,
        lon: 11.5681,
        fuelType: vehicle.fuelType,
        kind: 'no_refuel',
      });
    }
  }
  return out;
}

const csvCell = (v: string | number) => (typeof v === 'number' ? String(v) : `"${v.replaceAll('"', '""')}"`);

/** Writes the export as the provider's CSV and imports it as `fleet-cloud fuel import` does. */
export async function importDemoPurchases(
  pool: pg.Pool,
  tenantId: string,
  file: string,
  purchases: readonly DemoPurchase[],
): Promise<{ rows: number; stored: number; bad: number }> {
  const header = 'external_id,ts,litres,amount,currency,fuel_type,station,lat,lon,card_id,vehicle_id';
  const rows = purchases.map((p) =>
    [
      p.externalId,
      new Date(p.ts).toISOString(),
      p.litres,
      Math.round(p.litres * PRICE_PER_L[p.fuelType] * 100) / 100,
      'EUR',
      p.fuelType,
      p.station,
      Math.round(p.lat * 1e6) / 1e6,
      Math.round(p.lon * 1e6) / 1e6,
      `CARD-${p.vehicleId}`,
      p.vehicleId,
    ]
      .map(csvCell)
      .join(','),
  );
  writeFileSync(file, `${[header, ...rows].join('\n')}\n`);
  const r = await importFuelCsv(pool, tenantId, file);
  if (r.bad > 0)
    throw new Error(
      `demo fuel-card export refused: ${r.errors.map((e) => `line ${e.line}: ${e.reason}`).join('; ')}`,
    );
  return r;
}

export interface BackfillState {
  samples: number;
  events: number;
}

/** The week's samples and events the cloud holds now (rows before `toMs`). */
export function backfilled(pool: pg.Pool, tenantId: string, toMs: number): Promise<BackfillState> {
  return inTenant(pool, tenantId, async (c) => {
    const { rows } = await c.query<BackfillState>(
      `SELECT (SELECT count(*) FROM telemetry WHERE tenant_id = $1 AND ts < to_timestamp($2 / 1000.0))::int AS samples,
              (SELECT count(*) FROM vehicle_events WHERE tenant_id = $1 AND start_ts < to_timestamp($2 / 1000.0))::int AS events`,
      [tenantId, toMs],
    );
    return rows[0]!;
  });
}

/** Until the cloud holds `expected` (the agents' backfill is done), telling progress every few seconds. */
export async function waitForBackfill(
  pool: pg.Pool,
  tenantId: string,
  toMs: number,
  expected: BackfillState,
  opts: { timeoutMs: number; progress: (s: BackfillState) => void },
): Promise<BackfillState> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastTold = 0;
  for (;;) {
    const now = await backfilled(pool, tenantId, toMs);
    if (now.samples >= expected.samples && now.events >= expected.events) return now;
    if (Date.now() > deadline)
      throw new Error(
        `the agents' backfill did not finish in ${opts.timeoutMs / 1000} s: ${now.samples}/${expected.samples} samples, ${now.events}/${expected.events} events`,
      );
    if (Date.now() - lastTold >= 5000) {
      opts.progress(now);
      lastTold = Date.now();
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
