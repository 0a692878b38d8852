'use client';

import Link from 'next/link';
import { FleetAgentHealthPanel } from '../components/agent-health.tsx';
import { allowedTo, useMe } from '../lib/access.ts';
import { trpc } from '../lib/trpc.ts';
import { useQuery } from '../lib/use-query.ts';

/** The fleet's agent health, for the roles that look after devices; nothing for the others. */
export function FleetAgentHealth() {
  const allowed = allowedTo(useMe().data?.role, '/admin/devices');
  const { data } = useQuery(
    allowed ? 'fleet-health' : null,
    (signal) => (allowed ? trpc.devices.health.query({}, { signal }) : Promise.resolve(null)),
    { refreshMs: 60_000 },
  );
  if (!allowed || !data) return null;
  return (
    <section aria-labelledby="fleet-health-heading">
      <h2 id="fleet-health-heading">Agent health</h2>
      <FleetAgentHealthPanel rows={data} />
      <p>
        <Link href="/admin/devices" prefetch={false}>
          Every vehicle’s agent and device
        </Link>
      </p>
    </section>
  );
}
