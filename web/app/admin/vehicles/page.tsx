import type { Metadata } from 'next';
import { VehicleRegister } from './vehicle-register.tsx';

export const metadata: Metadata = { title: 'Fleet — vehicles' };

export default function VehiclesAdminPage() {
  return (
    <>
      <h1>Vehicles</h1>
      <VehicleRegister />
    </>
  );
}
