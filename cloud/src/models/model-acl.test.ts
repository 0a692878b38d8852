import path from 'node:path';
import { vehicleTopic } from '@fleet/shared';
import { describe, expect, it } from 'vitest';
import { MosquittoAcl } from '../devices/broker-auth.ts';

// The shipped ACL (production Mosquitto, and the embedded broker reads the same file).
const acl = MosquittoAcl.fromFile(path.join(import.meta.dirname, '../../../docker/mosquitto/acl'));
const model = (vehicle: string) => vehicleTopic('model', 'acme', vehicle);

describe('model topic in the broker ACL', () => {
  it('a vehicle reads its own model topic, not another vehicle’s, and never writes one', () => {
    expect(acl.allowed('VAN-1', 'fleet-agent-VAN-1-models', 'read', model('VAN-1'))).toBe(true);
    expect(acl.allowed('VAN-1', 'fleet-agent-VAN-1-models', 'read', model('VAN-2'))).toBe(false);
    expect(acl.allowed('VAN-1', 'fleet-agent-VAN-1-models', 'write', model('VAN-1'))).toBe(false);
  });

  it('the cloud user publishes models; anonymous clients get nothing', () => {
    expect(acl.allowed('fleet-ingest', 'publisher', 'write', model('VAN-1'))).toBe(true);
    expect(acl.allowed(undefined, 'anon', 'read', model('VAN-1'))).toBe(false);
    expect(acl.allowed(undefined, 'anon', 'write', model('VAN-1'))).toBe(false);
  });
});
