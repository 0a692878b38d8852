/**
 * vehicle -> owning tenant. Ownership never changes once a vehicle is registered, so a vehicle
 * looked up once is known for good; only answers from committed transactions are remembered (a
 * registration rolled back must be looked up again).
 */
import type pg from 'pg';
import { findVehicleTenants, registerVehicles } from '../db/queries/register-vehicles.ts';

export class VehicleOwners {
  private readonly known = new Map<string, string>();

  constructor(private readonly autoRegister: boolean) {}

  /**
   * The owner of every vehicle claimed (vehicle, tenant from its topic) that is registered; with
   * auto-registration, unknown vehicles are registered to the tenant that claims them first.
   * Runs in the caller's transaction; pass the result to `remember` after its COMMIT.
   */
  async resolve(
    db: pg.PoolClient,
    claims: readonly { tenantId: string; vehicleId: string }[],
  ): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    const unknown: { tenantId: string; vehicleId: string }[] = [];
    for (const c of claims) {
      const known = this.known.get(c.vehicleId);
      if (known !== undefined) owners.set(c.vehicleId, known);
      else unknown.push(c);
    }
    if (unknown.length === 0) return owners;
    const found = this.autoRegister
      ? await registerVehicles(db, unknown)
      : await findVehicleTenants(
          db,
          unknown.map((c) => c.vehicleId),
        );
    for (const [v, t] of found) owners.set(v, t);
    return owners;
  }

  remember(owners: ReadonlyMap<string, string>): void {
    for (const [v, t] of owners) this.known.set(v, t);
  }
}
