import path from 'node:path';
import { vehicleTopic } from '@fleet/shared';
import { describe, expect, it } from 'vitest';
import { MosquittoAcl } from '../devices/broker-auth.ts';

// The shipped ACL: production Mosquitto, and the embedded aedes authorizer reads the same file.
const acl = MosquittoAcl.fromFile(path.join(import.meta.dirname, '../../../docker/mosquitto/acl'));
const t = (kind: 'commands' | 'commands-ack' | 'commands-stream', vehicle: string) =>
  vehicleTopic(kind, 'acme', vehicle);

describe('remote command topics in the broker ACL', () => {
  it('the cloud sends commands and reads their answers and streams, for every vehicle', () => {
    expect(acl.allowed('fleet-ingest', 'cmds', 'write', t('commands', 'VAN-1'))).toBe(true);
    expect(acl.allowed('fleet-ingest', 'cmds', 'read', t('commands-ack', 'VAN-2'))).toBe(true);
    expect(acl.allowed('fleet-ingest', 'cmds', 'read', t('commands-stream', 'VAN-2'))).toBe(true);
  });

  it('a vehicle reads only its own commands and answers or streams only as itself', () => {
    expect(acl.allowed('VAN-1', 'a', 'read', t('commands', 'VAN-1'))).toBe(true);
    expect(acl.allowed('VAN-1', 'a', 'read', t('commands', 'VAN-2'))).toBe(false);
    // A vehicle cannot forge a command to itself or another (the signature would stop it anyway).
    expect(acl.allowed('VAN-1', 'a', 'write', t('commands', 'VAN-1'))).toBe(false);
    expect(acl.allowed('VAN-1', 'a', 'write', t('commands-ack', 'VAN-1'))).toBe(true);
    expect(acl.allowed('VAN-1', 'a', 'write', t('commands-ack', 'VAN-2'))).toBe(false);
    expect(acl.allowed('VAN-1', 'a', 'write', t('commands-stream', 'VAN-1'))).toBe(true);
    expect(acl.allowed('VAN-1', 'a', 'write', t('commands-stream', 'VAN-2'))).toBe(false);
    expect(acl.allowed('VAN-1', 'a', 'read', t('commands-stream', 'VAN-2'))).toBe(false);
  });

  it('anonymous clients get nothing', () => {
    expect(acl.allowed(undefined, 'anon', 'write', t('commands', 'VAN-1'))).toBe(false);
    expect(acl.allowed(undefined, 'anon', 'read', t('commands-stream', 'VAN-1'))).toBe(false);
  });
});
