import { VEHICLE_LIMIT } from './fleet-limit.ts';
import { FleetOverview } from './fleet-overview.tsx';
import { readFleetSnapshot } from './fleet-snapshot.ts';

export default async function FleetOverviewPage() {
  // Deployment settings, read per request (never inlined at build time): see README "Base map".
  const tileUrl = process.env.FLEET_TILE_URL || null;
  const tileAttribution = process.env.FLEET_TILE_ATTRIBUTION || null;
  // The first view comes with the HTML (null: the browser's first poll fills it in).
  const initial = await readFleetSnapshot(VEHICLE_LIMIT);
  return (
    <>
      <h1>Fleet overview</h1>
      <FleetOverview tileUrl={tileUrl} tileAttribution={tileAttribution} initial={initial} />
    </>
  );
}
