import type { Metadata } from 'next';
import { FuelTransactions } from './fuel-transactions.tsx';

export const metadata: Metadata = { title: 'Fleet — fuel transactions' };

export default function FuelPage() {
  return (
    <>
      <h1>Fuel transactions</h1>
      <FuelTransactions />
    </>
  );
}
