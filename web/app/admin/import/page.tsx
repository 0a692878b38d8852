import type { Metadata } from 'next';
import { ImportForms } from './import-forms.tsx';

export const metadata: Metadata = { title: 'Fleet — import vehicles and drivers' };

export default function ImportPage() {
  return (
    <>
      <h1>Import vehicles and drivers</h1>
      <ImportForms />
    </>
  );
}
