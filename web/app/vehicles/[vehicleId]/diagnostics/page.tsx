import type { Metadata } from 'next';
import Link from 'next/link';
import { VehicleDiagnostics } from './vehicle-diagnostics.tsx';

export async function generateMetadata({
  params,
}: {
  params: Promise<{ vehicleId: string }>;
}): Promise<Metadata> {
  const { vehicleId } = await params;
  return { title: `Fleet — diagnostics of ${decodeURIComponent(vehicleId)}` };
}

/**
 * A vehicle's remote diagnostics for technicians (issue 18 §3): its trouble codes, signed commands
 * to its agent (read or clear the codes, status, live PIDs) and their history.
 */
export default async function DiagnosticsPage({ params }: { params: Promise<{ vehicleId: string }> }) {
  const { vehicleId } = await params;
  const id = decodeURIComponent(vehicleId);
  return (
    <>
      <h1>Diagnostics — vehicle {id}</h1>
      <p>
        <Link href={`/vehicles/${encodeURIComponent(id)}`}>← Back to the vehicle</Link>
      </p>
      {/* MERGE POINT (issue 18 §2, the `diag` branch): freeze frame, PID 21/31, battery per start and
          mode 06 monitors go here: <VehicleHealthPanels vehicleId={id} /> from that branch. */}
      <VehicleDiagnostics vehicleId={id} />
    </>
  );
}
