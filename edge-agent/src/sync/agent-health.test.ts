import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { VehicleStatus } from '@fleet/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SampleClock } from '../gps/clock.ts';
import { AgentDb } from '../store/agent-db.ts';
import { agentHealth } from './agent-health.ts';

let dir: string;
let db: AgentDb;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fleet-health-'));
  db = new AgentDb(path.join(dir, 'agent.db'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('agentHealth', () => {
  const online = (health: unknown) => VehicleStatus.parse({ v: 1, state: 'online', ts: 1, health });

  it('carries the VIN the vehicle answered, or null before one is read; the cloud reads both', () => {
    let vin: string | null = null;
    const sources = { modelVersion: () => 'engine-anomaly@2', vin: () => vin };
    expect(online(agentHealth(db, new SampleClock(), sources)).health).toMatchObject({
      vin: null,
      modelVersion: 'engine-anomaly@2',
    });
    vin = '1SV7CE6F6RX068251';
    expect(online(agentHealth(db, new SampleClock(), sources)).health?.vin).toBe('1SV7CE6F6RX068251');
  });

  it('without a VIN source (no OBD reader) the block has no VIN key at all, as before', () => {
    const h = agentHealth(db, new SampleClock(), { modelVersion: () => null });
    expect('vin' in h).toBe(false);
    expect(online(h).health?.agentVersion).toBe(h.agentVersion);
  });
});
