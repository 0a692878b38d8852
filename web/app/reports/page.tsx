import type { Metadata } from 'next';
import { ReportBuilder } from './report-builder.tsx';

export const metadata: Metadata = { title: 'Fleet — reports' };

export default function ReportsPage() {
  return (
    <>
      <h1>Reports</h1>
      <ReportBuilder />
    </>
  );
}
