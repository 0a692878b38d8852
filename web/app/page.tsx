import { FleetOverview } from './fleet-overview.tsx';

export default function FleetOverviewPage() {
  return (
    <>
      <h1>Fleet overview</h1>
      <FleetOverview />
    </>
  );
}
