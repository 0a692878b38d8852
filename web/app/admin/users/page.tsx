import type { Metadata } from 'next';
import { UsersAdmin } from './users-admin.tsx';

export const metadata: Metadata = { title: 'Fleet — users' };

export default function UsersPage() {
  return (
    <>
      <h1>Users</h1>
      <UsersAdmin />
    </>
  );
}
