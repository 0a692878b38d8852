import type { Metadata } from 'next';
import { RulesEditor } from './rules-editor.tsx';

export const metadata: Metadata = { title: 'Fleet — alert rules' };

export default function AlertRulesPage() {
  return (
    <>
      <h1>Alert rules</h1>
      <RulesEditor />
    </>
  );
}
