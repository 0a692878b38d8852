import type { Metadata } from 'next';
import { NewVehicle } from './new-vehicle.tsx';

export const metadata: Metadata = { title: 'Fleet — add a vehicle' };

export default function NewVehiclePage() {
  return (
    <>
      <h1>Add a vehicle</h1>
      <NewVehicle />
    </>
  );
}
