import type { Metadata } from 'next';
import Link from 'next/link';
import { VehicleHealthPanels } from '../../../../components/vehicle-health/vehicle-health-panels.tsx';
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
 * A vehicle's remote diagnostics for technicians (issue 18 §2-§3): its trouble codes, signed
 * commands to its agent (read or clear the codes, status, live PIDs) and their history, and the
 * vehicle-health panels.
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
      <VehicleDiagnostics vehicleId={id} />
      {/* What the codes do not say: freeze frames, distance since MIL on and since clearing, the
          battery per engine start and the mode 06 monitors, each with its trend (issue 18 §2). */}
      <section aria-labelledby="vehicle-health-heading">
        <h2 id="vehicle-health-heading">Vehicle health</h2>
        <VehicleHealthPanels vehicleId={id} />
      </section>
    </>
  );
}
