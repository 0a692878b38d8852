'use client';

/** One vehicle's register entry to edit, and who drove it when (its assignment history). */
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { trpc } from '../../../../lib/trpc.ts';
import { useQuery } from '../../../../lib/use-query.ts';
import { AssignmentHistory } from '../../drivers/assignment-history.tsx';
import { VehicleForm } from '../vehicle-form.tsx';

export function EditVehicle({ vehicleId }: { vehicleId: string }) {
  const vehicle = useQuery(vehicleId, (signal) => trpc.registry.get.query({ vehicleId }, { signal }));
  const [message, setMessage] = useState('');
  useEffect(() => {
    // Arriving from "Add a vehicle" (?created=1): say that it worked.
    if (new URLSearchParams(window.location.search).has('created')) setMessage(`Vehicle ${vehicleId} added.`);
  }, [vehicleId]);
  return (
    <>
      <p>
        <Link href="/admin/vehicles" prefetch={false}>
          Back to the vehicles
        </Link>{' '}
        ·{' '}
        <Link href={`/vehicles/${encodeURIComponent(vehicleId)}`} prefetch={false}>
          Live data of this vehicle
        </Link>
      </p>
      <div role="status" aria-live="polite">
        {message && <p className="notice">{message}</p>}
      </div>
      {vehicle.error && <p className="error-text">Could not load the vehicle: {vehicle.error}</p>}
      {vehicle.data ? (
        <VehicleForm
          key={vehicle.data.id}
          vehicle={vehicle.data}
          onSaved={(v) => {
            setMessage(`Vehicle ${v.id} saved.`);
            void vehicle.reload();
          }}
        />
      ) : null}
      <section aria-labelledby="history-heading">
        <h2 id="history-heading">Drivers of this vehicle</h2>
        <AssignmentHistory vehicleId={vehicleId} />
      </section>
    </>
  );
}
