import type { Metadata } from 'next';
import { VehicleDetail } from './vehicle-detail.tsx';

export async function generateMetadata({
  params,
}: {
  params: Promise<{ vehicleId: string }>;
}): Promise<Metadata> {
  const { vehicleId } = await params;
  return { title: `Fleet — vehicle ${decodeURIComponent(vehicleId)}` };
}

export default async function VehiclePage({ params }: { params: Promise<{ vehicleId: string }> }) {
  const { vehicleId } = await params;
  const id = decodeURIComponent(vehicleId);
  return (
    <>
      <h1>Vehicle {id}</h1>
      <VehicleDetail vehicleId={id} />
    </>
  );
}
