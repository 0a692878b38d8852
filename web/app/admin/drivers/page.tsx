import type { Metadata } from 'next';
import { DriversAdmin } from './drivers-admin.tsx';

export const metadata: Metadata = { title: 'Fleet — drivers and assignments' };

export default function DriversAdminPage() {
  return (
    <>
      <h1>Drivers and assignments</h1>
      <DriversAdmin />
    </>
  );
}
