import type { Metadata } from 'next';
import { DevicesAdmin } from './devices-admin.tsx';

export const metadata: Metadata = { title: 'Fleet — devices' };

export default function DevicesPage() {
  return (
    <>
      <h1>Devices</h1>
      <DevicesAdmin />
    </>
  );
}
