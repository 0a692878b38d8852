import { describe, expect, it } from 'vitest';
import { failoverServers } from './broker-link.ts';

describe('broker list failover (FLEET_MQTT_URLS)', () => {
  const urls = ['mqtt://10.0.0.1:1883', 'mqtt://10.0.0.2:1884', 'mqtts://10.0.0.3'];

  it('one broker: no server list (mqtt.js reconnects to the URL)', () => {
    expect(failoverServers(undefined, 'a')).toBeUndefined();
    expect(failoverServers(['mqtt://10.0.0.1:1883'], 'a')).toBeUndefined();
  });

  it('every broker once, rotated to a start of the client id; a fleet spreads over all of them', () => {
    const starts = new Map<string, number>();
    for (let v = 0; v < 300; v++) {
      const servers = failoverServers(urls, `fleet-agent-acme-van-${v}`)!;
      expect(servers.map((s) => `${s.protocol}://${s.host}:${s.port}`).sort()).toEqual([
        'mqtt://10.0.0.1:1883',
        'mqtt://10.0.0.2:1884',
        'mqtts://10.0.0.3:8883',
      ]);
      // Stable: the same agent starts at the same broker every time.
      expect(failoverServers(urls, `fleet-agent-acme-van-${v}`)).toEqual(servers);
      starts.set(servers[0]!.host, (starts.get(servers[0]!.host) ?? 0) + 1);
    }
    for (const host of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) expect(starts.get(host)).toBeGreaterThan(50);
  });
});
