import { FleetAgentHealth } from './fleet-agent-health.tsx';
import { FleetOverview } from './fleet-overview.tsx';

export default function FleetOverviewPage() {
  // Deployment settings, read per request (never inlined at build time): see README "Base map".
  const tileUrl = process.env.FLEET_TILE_URL || null;
  const tileAttribution = process.env.FLEET_TILE_ATTRIBUTION || null;
  return (
    <>
      <h1>Fleet overview</h1>
      <FleetOverview tileUrl={tileUrl} tileAttribution={tileAttribution} />
      <FleetAgentHealth />
    </>
  );
}
