import type { Metadata } from 'next';
import { MaintenanceNav } from '../maintenance-nav.tsx';
import { ProgramsAdmin } from './programs-admin.tsx';

export const metadata: Metadata = { title: 'Fleet — service programs' };

export default function ProgramsPage() {
  return (
    <>
      <h1>Service programs</h1>
      <MaintenanceNav current="programs" />
      <ProgramsAdmin />
    </>
  );
}
