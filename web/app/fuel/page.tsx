import type { Metadata } from 'next';
import { DriverRefuels } from './driver-refuels.tsx';
import { FuelTransactions } from './fuel-transactions.tsx';

export const metadata: Metadata = { title: 'Fleet — fuel transactions' };

export default function FuelPage() {
  return (
    <>
      <h1>Fuel transactions</h1>
      <FuelTransactions />
      <h2>Refuels logged by drivers</h2>
      <DriverRefuels />
    </>
  );
}
