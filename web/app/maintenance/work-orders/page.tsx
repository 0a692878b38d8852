import type { Metadata } from 'next';
import { MaintenanceNav } from '../maintenance-nav.tsx';
import { WorkOrderList } from './work-order-list.tsx';

export const metadata: Metadata = { title: 'Fleet — work orders' };

export default function WorkOrdersPage() {
  return (
    <>
      <h1>Work orders</h1>
      <MaintenanceNav current="work-orders" />
      <WorkOrderList />
    </>
  );
}
