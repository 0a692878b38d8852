import type { Metadata } from 'next';
import { DueList } from './due-list.tsx';
import { MaintenanceNav } from './maintenance-nav.tsx';

export const metadata: Metadata = { title: 'Fleet — maintenance due' };

export default function MaintenancePage() {
  return (
    <>
      <h1>Maintenance</h1>
      <MaintenanceNav current="due" />
      <DueList />
    </>
  );
}
