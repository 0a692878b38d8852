'use client';

import { useState } from 'react';
import {
  evictedTotal,
  formatDiskUse,
  formatSyncLag,
  formatVinCheck,
} from '../../../components/agent-health.tsx';
import { DataTable } from '../../../components/data-table.tsx';
import { NotAllowed } from '../../../components/not-allowed.tsx';
import { UtcTime } from '../../../components/utc-time.tsx';
import { VehicleLink } from '../../../components/vehicle-link.tsx';
import { allowedTo, useMe } from '../../../lib/access.ts';
import { formatNumber, formatOnline, MISSING } from '../../../lib/format.ts';
import { trpc } from '../../../lib/trpc.ts';
import { useQuery } from '../../../lib/use-query.ts';

type Credentials = Awaited<ReturnType<typeof trpc.devices.provision.mutate>>;

const STATUS: Record<string, { text: string; badge: string }> = {
  none: { text: '— No device', badge: '' },
  active: { text: '✓ Active', badge: 'badge badge--ok' },
  revoked: { text: '✗ Revoked', badge: 'badge badge--danger' },
};

/**
 * Every vehicle with its device and its agent's health. Credentials appear once, right after
 * provisioning or rotation; the cloud keeps only the broker's hash.
 */
export function DevicesAdmin() {
  const me = useMe();
  const role = me.data?.role;
  const canSee = allowedTo(role, '/admin/devices');
  const list = useQuery(
    canSee ? 'devices' : null,
    (signal) => (canSee ? trpc.devices.list.query(undefined, { signal }) : Promise.resolve(null)),
    { refreshMs: 30_000 },
  );
  const [shown, setShown] = useState<Credentials | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState('');

  if (me.error) return <p className="error-text">Could not load your account: {me.error}</p>;
  if (!me.data) return <p role="status">Loading…</p>;
  if (!canSee) return <NotAllowed what="the vehicles' devices" />;

  const act = async (what: string, fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      setStatus(what);
      await list.reload();
    } catch (err) {
      setError(err instanceof Error ? err.message : 'That did not work.');
    }
  };
  const issue = (vehicleId: string, verb: 'provision' | 'rotate') =>
    act(`New credentials for ${vehicleId}: shown below, once.`, async () => {
      setShown(await trpc.devices[verb].mutate({ vehicleId }));
    });
  const devices = list.data?.devices ?? [];

  return (
    <>
      <div role="status" className="visually-hidden">
        {status}
      </div>
      {error || list.error ? (
        <p className="error-text" role="alert">
          {error ?? list.error}
        </p>
      ) : null}
      {list.data && !list.data.manageable ? (
        <p className="notice">
          This cloud cannot change the broker’s logins (FLEET_MQTT_PASSWORD_FILE is not set): devices can be
          looked at, not provisioned.
        </p>
      ) : null}
      {shown ? (
        <section aria-labelledby="credentials-heading" className="notice">
          <h2 id="credentials-heading">Credentials for {shown.vehicleId}</h2>
          <p>
            Start the vehicle’s agent with these settings (or pipe them into{' '}
            <code>fleet-agent provision</code>). They are shown this once: the cloud keeps only a hash.
          </p>
          <pre className="secret" data-testid="device-credentials">
            {shown.environment}
          </pre>
          <button type="button" className="button--secondary" onClick={() => setShown(null)}>
            I have stored them on the vehicle
          </button>
        </section>
      ) : null}

      <DataTable
        caption="Devices and agent health"
        columns={[
          'Vehicle',
          'Device',
          'Link',
          'Agent',
          'VIN',
          'Last seen',
          'Clock',
          'Disk budget',
          'Evicted rows',
          'Sync lag',
          'Engine model',
          'Actions',
        ]}
      >
        {devices.map((d) => {
          const h = d.health;
          const evicted = evictedTotal(h);
          return (
            <tr key={d.vehicleId}>
              <td>
                <VehicleLink vehicleId={d.vehicleId} />
              </td>
              <td>
                <span className={STATUS[d.status]!.badge}>{STATUS[d.status]!.text}</span>
              </td>
              <td>{formatOnline(h.online)}</td>
              <td>{h.agentVersion ?? MISSING}</td>
              <td data-vin-status={h.vinStatus}>{formatVinCheck(h)}</td>
              <td>
                <UtcTime ms={h.lastSeenAt} />
              </td>
              <td>{h.clockSource ?? MISSING}</td>
              <td>{formatDiskUse(h.diskUsedBytes, h.diskBudgetBytes)}</td>
              <td className="num">{evicted === null ? MISSING : formatNumber(evicted)}</td>
              <td>{formatSyncLag(h.syncLagMs, h.unsentSamples)}</td>
              <td>{h.modelVersion ?? MISSING}</td>
              <td>
                {d.status === 'active' ? (
                  <>
                    <button
                      type="button"
                      className="button--secondary"
                      disabled={!list.data?.manageable}
                      onClick={() => issue(d.vehicleId, 'rotate')}
                    >
                      Rotate <span className="visually-hidden">credentials of {d.vehicleId}</span>
                    </button>{' '}
                    <button
                      type="button"
                      className="button--secondary"
                      disabled={!list.data?.manageable}
                      onClick={() =>
                        window.confirm(
                          `Revoke the device of ${d.vehicleId}? The broker refuses it at once.`,
                        ) &&
                        act(`Device of ${d.vehicleId} revoked.`, () =>
                          trpc.devices.revoke.mutate({ vehicleId: d.vehicleId }),
                        )
                      }
                    >
                      Revoke <span className="visually-hidden">device of {d.vehicleId}</span>
                    </button>
                  </>
                ) : (
                  <button
                    type="button"
                    disabled={!list.data?.manageable}
                    onClick={() => issue(d.vehicleId, 'provision')}
                  >
                    Provision <span className="visually-hidden">a device for {d.vehicleId}</span>
                  </button>
                )}
              </td>
            </tr>
          );
        })}
      </DataTable>
    </>
  );
}
