import type { Metadata } from 'next';
import { MaintenanceNav } from '../../maintenance-nav.tsx';
import { WorkOrderDetail } from './work-order-detail.tsx';

export async function generateMetadata({
  params,
}: {
  params: Promise<{ workOrderId: string }>;
}): Promise<Metadata> {
  const { workOrderId } = await params;
  return { title: `Fleet — work order ${decodeURIComponent(workOrderId)}` };
}

export default async function WorkOrderPage({ params }: { params: Promise<{ workOrderId: string }> }) {
  const { workOrderId } = await params;
  const id = Number(decodeURIComponent(workOrderId));
  return (
    <>
      <h1>Work order {Number.isSafeInteger(id) ? id : ''}</h1>
      <MaintenanceNav current="work-orders" />
      {Number.isSafeInteger(id) && id > 0 ? <WorkOrderDetail workOrderId={id} /> : <p>No such work order.</p>}
    </>
  );
}
