import type { Metadata } from 'next';
import { GroupsAdmin } from './groups-admin.tsx';

export const metadata: Metadata = { title: 'Fleet — groups' };

export default function GroupsAdminPage() {
  return (
    <>
      <h1>Groups</h1>
      <GroupsAdmin />
    </>
  );
}
