import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Elm327Emulator } from '../src/elm327/emulator.ts';
import type { ByteEndpoint } from '../src/transport/endpoint.ts';
import { openSerialEndpoint } from '../src/transport/serial.ts';
import { VehicleModel } from '../src/vehicle/model.ts';
import { createPtyPair, openHost, type PtyPair } from './socat.ts';

describe('ELM327 emulator on a socat pty pair', () => {
  let dir: string;
  let pair: PtyPair;
  let device: ByteEndpoint;
  let emulator: Elm327Emulator;
  let host: Awaited<ReturnType<typeof openHost>>;
  const model = new VehicleModel({ seed: 21, startTimeMs: Date.UTC(2024, 4, 1, 8) });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fsim-pty-'));
    pair = await createPtyPair(join(dir, 'elm-sim'), join(dir, 'elm-host'));
    device = await openSerialEndpoint(pair.device);
    emulator = new Elm327Emulator({
      vehicle: model,
      vin: '1SV7CE6F6RX068251',
      write: (bytes) => device.write(bytes),
      resetDelayMs: 100,
    });
    device.onData((bytes) => emulator.receive(bytes));
    host = await openHost(pair.host);
  });

  afterAll(async () => {
    emulator?.close();
    await host?.close();
    await device?.close();
    await pair?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers ATZ and 010D through the pty', async () => {
    expect(await host.ask('ATZ')).toBe('ATZ\r\r\rELM327 v1.5\r\r>');

    // Drive a bit so the speed is not trivially zero.
    for (let i = 0; i < 90 && model.state().speedKmh < 5; i++) model.step();
    const reply = await host.ask('010D');
    const m = /^010D\r(?:SEARCHING\.\.\.\r)?41 0D ([0-9A-F]{2}) \r\r>$/.exec(reply);
    expect(m, JSON.stringify(reply)).not.toBeNull();
    expect(Number.parseInt(m![1]!, 16)).toBe(Math.round(model.state().speedKmh));

    expect(await host.ask('ATE0')).toBe('ATE0\rOK\r\r>');
    expect(await host.ask('ATDPN')).toBe('A6\r\r>');
  });
});
