import Link from 'next/link';
import { MISSING } from '../lib/format.ts';

/**
 * A vehicle's id linking to its page, or "—" for a row without a vehicle. No prefetch: one request
 * per row while a list loads is work a click may never need.
 */
export function VehicleLink({ vehicleId }: { vehicleId: string | null }) {
  if (!vehicleId) return MISSING;
  return (
    <Link href={`/vehicles/${encodeURIComponent(vehicleId)}`} prefetch={false}>
      {vehicleId}
    </Link>
  );
}
