import { createLogger } from '@fleet/shared/log';
import { describe, expect, it } from 'vitest';
import { parseAgentConfig } from '../config.ts';
import { AgentErrorCode, isAgentError } from '../errors.ts';
import { GpsdClient } from './gpsd-client.ts';
import { NmeaReader } from './nmea-reader.ts';
import { createGpsSource } from './source.ts';

const base = {
  tenantId: 'demo',
  vehicleId: 'van-1',
  obdPort: '/dev/ttyUSB0',
  mqttUrl: 'mqtt://127.0.0.1:1883',
};
const log = createLogger('gps-source-test');

function configError(input: Record<string, unknown>): string {
  try {
    parseAgentConfig(input);
  } catch (err) {
    expect(isAgentError(err, AgentErrorCode.ConfigInvalid)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('agent configuration: the GPS transport', () => {
  it('takes a raw NMEA port (gpsNmeaPort, with gpsBaud) ...', () => {
    const c = parseAgentConfig({ ...base, gpsNmeaPort: '/dev/ttyAMA0', gpsBaud: '4800' });
    expect(c).toMatchObject({ gpsNmeaPort: '/dev/ttyAMA0', gpsBaud: 4800 });
    expect(c.gpsdAddress).toBeUndefined();
    expect(createGpsSource(c, () => {}, log)).toBeInstanceOf(NmeaReader);
  });

  it('... or a gpsd address (gpsdAddress, HOST[:PORT])', () => {
    const c = parseAgentConfig({ ...base, gpsdAddress: '127.0.0.1:2947' });
    const source = createGpsSource(c, () => {}, log);
    expect(source).toBeInstanceOf(GpsdClient);
    expect((source as GpsdClient).name).toBe('gpsd://127.0.0.1:2947');
    expect((createGpsSource({ ...c, gpsdAddress: 'gps-box' }, () => {}, log) as GpsdClient).name).toBe(
      'gpsd://gps-box:2947',
    );
  });

  it('refuses both, neither, or a malformed gpsd address', () => {
    expect(configError(base)).toContain('set exactly one GPS source');
    expect(configError({ ...base, gpsNmeaPort: '/dev/ttyAMA0', gpsdAddress: 'localhost' })).toContain(
      'set exactly one GPS source',
    );
    expect(configError({ ...base, gpsdAddress: 'localhost:notaport' })).toContain('expected HOST:PORT');
  });
});
