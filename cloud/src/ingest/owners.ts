/**
 * vehicle -> owning tenant. Ownership never changes once a vehicle is registered, so a vehicle
 * looked up once is known for good; only answers from committed transactions are remembered (a
 * registration rolled back must be looked up again).
 */
import type pg from 'pg';
import { findVehicleTenants, registerVehicles } from '../db/queries/register-vehicles.ts';

/** vehicle -> owning tenant, as planGroup reads it (a ReadonlyMap is one). */
export interface OwnerLookup {
  get(vehicleId: string): string | undefined;
}

/** What `resolve` answers: the owners known for good, and those found in this transaction. */
export class ResolvedOwners implements OwnerLookup {
  constructor(
    private readonly known: ReadonlyMap<string, string>,
    /** Looked up (or registered) in the caller's transaction: remembered only after its COMMIT. */
    readonly found: ReadonlyMap<string, string>,
  ) {}

  get(vehicleId: string): string | undefined {
    return this.known.get(vehicleId) ?? this.found.get(vehicleId);
  }
}

const NONE: ReadonlyMap<string, string> = new Map();

export class VehicleOwners {
  private readonly known = new Map<string, string>();

  constructor(private readonly autoRegister: boolean) {}

  /**
   * The owner of every vehicle claimed (vehicle, tenant from its topic) that is registered; with
   * auto-registration, unknown vehicles are registered to the tenant that claims them first.
   * Runs in the caller's transaction; pass the result to `remember` after its COMMIT. Known
   * vehicles are not copied into a map of the group's own: at 20,000 messages/s that copy and
   * its re-remembering after every COMMIT cost more than the lookups.
   */
  async resolve(
    db: pg.PoolClient,
    claims: Iterable<{ tenantId: string; vehicleId: string }>,
  ): Promise<ResolvedOwners> {
    const unknown: { tenantId: string; vehicleId: string }[] = [];
    for (const c of claims) if (!this.known.has(c.vehicleId)) unknown.push(c);
    if (unknown.length === 0) return new ResolvedOwners(this.known, NONE);
    const found = this.autoRegister
      ? await registerVehicles(db, unknown)
      : await findVehicleTenants(
          db,
          unknown.map((c) => c.vehicleId),
        );
    return new ResolvedOwners(this.known, found);
  }

  remember(owners: ResolvedOwners): void {
    for (const [v, t] of owners.found) this.known.set(v, t);
  }
}
