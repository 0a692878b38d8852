import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import type { Session } from '../auth/session.ts';

/**
 * The vehicle exists in the session's tenant and the user may see it (a driver: only the one
 * they drive). Another tenant's vehicle, a missing one and a colleague's are all NOT_FOUND, so
 * an answer never tells which of the three it was.
 */
export async function requireVisibleVehicle(db: pg.PoolClient, session: Session, vehicleId: string) {
  const notFound = () => new TRPCError({ code: 'NOT_FOUND', message: `no vehicle ${vehicleId}` });
  if (session.role === 'driver' && session.vehicleId !== vehicleId) throw notFound();
  const { rowCount } = await db.query('SELECT 1 FROM vehicles WHERE id = $1 AND tenant_id = $2', [
    vehicleId,
    session.tenantId,
  ]);
  if (!rowCount) throw notFound();
}

/** A driver sees their own vehicle only; everyone else the whole tenant (null). */
export const ownVehicleScope = (session: Session): string | null =>
  session.role === 'driver' ? (session.vehicleId ?? '\u0000none') : null;
