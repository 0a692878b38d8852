/**
 * The VIN an agent reads from its vehicle, on the real PostgreSQL: from the status message's health
 * block (as the ingest classifies it) into vehicle_agent_health, then out through the API, where
 * the register and the health panel flag a VIN that is not the registered one. A report without a
 * VIN (not read this time, or an agent before VINs) keeps the last one read.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAgentHealth } from '../src/db/queries/agent-health.ts';
import { classify } from '../src/ingest/classify.ts';
import { callerAs, openPoolWithUser, sessionOf } from './support/sessions.ts';

const REGISTERED = '1SV7CE6F6RX068251';
const OTHER = '1SVZZ9Y3XRP012345';
let db: Awaited<ReturnType<typeof openPoolWithUser>>;
let pool: pg.Pool;
const api = () => callerAs(pool, sessionOf('admin', 'acme'));

/** One status message from van-1's agent, through the ingest's classifier, stored. */
async function report(at: number, vin?: unknown) {
  const health = {
    v: 1,
    at,
    agentVersion: '0.3.0',
    clockSource: 'gps',
    diskUsedBytes: 1,
    diskBudgetBytes: 2,
    evicted: { rawSynced: 0, rawUnsynced: 0, rollups: 0, events: 0 },
    unsentSamples: 0,
    syncLagMs: null,
    modelVersion: null,
    ...(vin === undefined ? {} : { vin }),
  };
  const body = Buffer.from(JSON.stringify({ v: 1, state: 'online', ts: 1, health }));
  const c = classify(null, 'fleet/v1/acme/van-1/status', body, 'fleet');
  if (c.kind !== 'status' || !c.status.health) throw new Error(`not a health status: ${c.kind}`);
  const client = await pool.connect();
  try {
    await upsertAgentHealth(client, [{ tenantId: 'acme', vehicleId: 'van-1', health: c.status.health }]);
  } finally {
    client.release();
  }
}

const seen = async () => {
  const [health] = await api().devices.health({ vehicleId: 'van-1' });
  const register = (await api().registry.list({})).items.find((v) => v.id === 'van-1');
  return {
    health: { reportedVin: health!.reportedVin, vinStatus: health!.vinStatus },
    registeredOnPanel: health!.registeredVin,
    register: { vin: register!.vin, reportedVin: register!.reportedVin, vinStatus: register!.vinStatus },
  };
};

beforeAll(async () => {
  db = await openPoolWithUser('t_agent_vin', {
    email: 'boss@acme.test',
    role: 'admin',
    password: 'boss-password-123',
  });
  pool = db.pool;
  await pool.query(`INSERT INTO vehicles (id, tenant_id, plate, vin) VALUES ('van-1', 'acme', 'AC-1', $1)`, [
    REGISTERED,
  ]);
});

afterAll(async () => {
  await db?.drop();
});

describe('the VIN an agent reports', () => {
  it('nothing reported yet: unreported on the panel and the register', async () => {
    expect(await seen()).toEqual({
      health: { reportedVin: null, vinStatus: 'unreported' },
      registeredOnPanel: REGISTERED,
      register: { vin: REGISTERED, reportedVin: null, vinStatus: 'unreported' },
    });
  });

  it('an agent before VINs is stored as before, with no VIN', async () => {
    await report(1000);
    expect((await seen()).health).toEqual({ reportedVin: null, vinStatus: 'unreported' });
    const { rows } = await pool.query('SELECT agent_version, reported_vin FROM vehicle_agent_health');
    expect(rows).toEqual([{ agent_version: '0.3.0', reported_vin: null }]);
  });

  it('the registered VIN matches', async () => {
    await report(2000, REGISTERED);
    expect(await seen()).toEqual({
      health: { reportedVin: REGISTERED, vinStatus: 'match' },
      registeredOnPanel: REGISTERED,
      register: { vin: REGISTERED, reportedVin: REGISTERED, vinStatus: 'match' },
    });
  });

  it('another VIN is flagged on both; an older report arriving late changes nothing', async () => {
    await report(3000, OTHER);
    await report(2500, REGISTERED); // retained status delivered again, out of order
    expect(await seen()).toEqual({
      health: { reportedVin: OTHER, vinStatus: 'mismatch' },
      registeredOnPanel: REGISTERED,
      register: { vin: REGISTERED, reportedVin: OTHER, vinStatus: 'mismatch' },
    });
  });

  it('a report without a VIN keeps the last one read', async () => {
    await report(4000, null);
    await report(5000);
    expect((await seen()).health).toEqual({ reportedVin: OTHER, vinStatus: 'mismatch' });
  });

  it('correcting the register clears the flag; removing the registered VIN says so', async () => {
    await api().registry.update({ vehicleId: 'van-1', vin: OTHER });
    expect((await seen()).register).toEqual({ vin: OTHER, reportedVin: OTHER, vinStatus: 'match' });
    await api().registry.update({ vehicleId: 'van-1', vin: null });
    expect((await seen()).register).toEqual({ vin: null, reportedVin: OTHER, vinStatus: 'unregistered' });
  });

  it("the register edit is audited without the reported VIN (it is the agent's, not the admin's)", async () => {
    const { rows } = await pool.query<{ after: Record<string, unknown> }>(
      `SELECT after FROM audit_log WHERE action = 'vehicle.update' ORDER BY id`,
    );
    expect(rows.length).toBe(2);
    for (const r of rows) {
      expect(r.after).not.toHaveProperty('reportedVin');
      expect(r.after).not.toHaveProperty('vinStatus');
    }
  });
});
