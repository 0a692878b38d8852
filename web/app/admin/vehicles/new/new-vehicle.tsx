'use client';

import { useRouter } from 'next/navigation';
import { VehicleForm } from '../vehicle-form.tsx';

/** After saving, the new vehicle's own page (its register entry, assignments and history). */
export function NewVehicle() {
  const router = useRouter();
  return (
    <VehicleForm
      vehicle={null}
      onSaved={(v) => router.push(`/admin/vehicles/${encodeURIComponent(v.id)}?created=1`)}
    />
  );
}
