import type { Metadata } from 'next';
import { EditVehicle } from './edit-vehicle.tsx';

export async function generateMetadata({
  params,
}: {
  params: Promise<{ vehicleId: string }>;
}): Promise<Metadata> {
  const { vehicleId } = await params;
  return { title: `Fleet — edit vehicle ${decodeURIComponent(vehicleId)}` };
}

export default async function EditVehiclePage({ params }: { params: Promise<{ vehicleId: string }> }) {
  const { vehicleId } = await params;
  const id = decodeURIComponent(vehicleId);
  return (
    <>
      <h1>Vehicle {id}</h1>
      <EditVehicle vehicleId={id} />
    </>
  );
}
