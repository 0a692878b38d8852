import { createLogger } from '@fleet/shared/log';
import { describe, expect, it } from 'vitest';
import { AgentError, AgentErrorCode } from '../errors.ts';
import { BAUD_RATES, Elm327Connection, parseIdentity } from './elm327/connection.ts';
import { ObdSession } from './obd-session.ts';
import { canLines, type ScriptedAnswer, ScriptedElm327 } from './testing/scripted-elm327.ts';

const log = createLogger('test');

/** PID data of a two-ECU car: engine (7E8) and transmission (7E9). */
const ENGINE: Record<number, number[]> = {
  12: [0x1a, 0xf8], // 1726 rpm
  13: [0x32], // 50 km/h
  17: [0x33], // 20 %
  16: [0x01, 0x2c], // 3 g/s
  5: [0x7b], // 83 °C
  15: [0x3c], // 20 °C
  47: [0xcc], // 80 %
};
const TRANSMISSION: Record<number, number[]> = { 13: [0x31] }; // 49 km/h

/** Bitmap bytes for PIDs in block `base`. */
function bitmap(base: number, pids: number[], more: boolean): number[] {
  let bits = 0;
  for (const p of pids) if (p > base && p <= base + 0x20) bits |= 1 << (32 - (p - base));
  if (more) bits |= 1;
  return [(bits >>> 24) & 0xff, (bits >>> 16) & 0xff, (bits >>> 8) & 0xff, bits & 0xff];
}

/** The two-ECU car behind a scripted chip; each ECU answers its PIDs in `order` (reversed, shuffled). */
function twoEcuCar(
  options: {
    reverse?: boolean;
    dtcs?: Record<string, number[]>;
    /** PIDs the ECUs announce but never answer (real ECUs do). */
    mute?: number[];
  } = {},
) {
  const ecus: [string, Record<number, number[]>][] = [
    ['7E8', ENGINE],
    ['7E9', TRANSMISSION],
  ];
  return (command: string): ScriptedAnswer | undefined => {
    if (!/^[0-9A-F]+$/.test(command) || command.startsWith('AT')) return undefined;
    const hexPart = command.length % 2 === 1 ? command.slice(0, -1) : command;
    const bytes = hexPart.match(/../g)!.map((h) => Number.parseInt(h, 16));
    const [service, ...pids] = bytes;
    const lines: string[] = [];
    for (const [ecu, table] of ecus) {
      if (service === 0x01) {
        const data: number[] = [];
        const asked = options.reverse ? [...pids].reverse() : pids;
        for (const pid of asked) {
          if (pid % 0x20 === 0) {
            const supported = Object.keys(table).map(Number);
            if (pid === 0 || supported.some((p) => p > pid))
              data.push(
                pid,
                ...bitmap(
                  pid,
                  supported,
                  supported.some((p) => p > pid + 0x20),
                ),
              );
          } else if (table[pid] && !options.mute?.includes(pid)) data.push(pid, ...table[pid]);
        }
        if (data.length > 0) lines.push(...canLines(ecu, [0x41, ...data]));
      } else if (service === 0x03 && options.dtcs?.[ecu]) {
        const codes = options.dtcs[ecu]!;
        lines.push(...canLines(ecu, [0x43, codes.length / 2, ...codes]));
      } else if (service === 0x09 && pids[0] === 0x02 && ecu === '7E8') {
        lines.push(
          ...canLines(ecu, [0x49, 0x02, 0x01, ...[...'1M8GDM9AXKP042788'].map((c) => c.charCodeAt(0))]),
        );
      } else if (service === 0x09 && ecu === '7E9') {
        lines.push(`${ecu}037F0912`); // sub-function not supported
      }
    }
    return lines.length > 0 ? lines : ['NO DATA'];
  };
}

async function openSession(chip: ScriptedElm327, extra: Partial<Parameters<typeof ObdSession.open>[0]> = {}) {
  return ObdSession.open({ open: async () => chip, log, ...extra });
}

describe('ObdSession against a scripted two-ECU vehicle', () => {
  it('initialises the adapter: ATZ, echo/linefeeds/spaces off, headers on, identity', async () => {
    const chip = new ScriptedElm327(twoEcuCar());
    const session = await openSession(chip);
    expect(chip.commands.slice(0, 6)).toEqual(['ATZ', 'ATE0', 'ATL0', 'ATS0', 'ATH1', 'ATAT1']);
    expect(session.identity).toMatchObject({
      description: 'ELM327 v1.5',
      chip: 'ELM327',
      version: '1.5',
      stn: null,
      replyCount: true,
    });
    expect(await session.readVoltage()).toBe(12.6);
  });

  it('finds the protocol (ATSP0, 0100, ATDPN) and discovers supported PIDs per ECU', async () => {
    const chip = new ScriptedElm327(twoEcuCar());
    const session = await openSession(chip);
    const protocol = await session.connectVehicle();
    expect(protocol).toMatchObject({ number: 6, format: 'can11' });
    expect(session.protocolAuto).toBe(true);
    const support = await session.discoverSupportedPids();
    expect([...support.get('7E8')!].sort((a, b) => a - b)).toEqual([
      0x05, 0x0c, 0x0d, 0x0f, 0x10, 0x11, 0x20, 0x2f,
    ]);
    expect([...support.get('7E9')!]).toEqual([0x0d]);
    expect(chip.commands.filter((c) => /^01[0-9A-F]{2}$/.test(c))).toEqual(['0100', '0100', '0120']);
  });

  it('reads six PIDs in one request, multi-frame, answered in reverse order, with the reply count', async () => {
    const chip = new ScriptedElm327(twoEcuCar({ reverse: true }));
    const session = await openSession(chip);
    await session.connectVehicle();
    await session.discoverSupportedPids();
    const readings = await session.readPids([0x0c, 0x0d, 0x11, 0x10, 0x05, 0x0f, 0x2f]);
    // 7E8: 41 + 0C ab + 0D a + 11 a + 10 ab + 05 a + 0F a = 15 bytes -> 3 frames; 7E9: 41 0D a -> 1.
    expect(chip.commands.slice(-2)).toEqual(['010C0D1110050F4', '012F1']);
    const byKey = Object.fromEntries(readings.map((r) => [`${r.ecu}:${r.pid.toString(16)}`, r.value]));
    expect(byKey).toEqual({
      '7E8:c': 1726,
      '7E8:d': 50,
      '7E9:d': 49,
      '7E8:11': 20,
      '7E8:10': 3,
      '7E8:5': 83,
      '7E8:f': 20,
      '7E8:2f': 80,
    });
    expect(session.stats.frames.badFrames).toBe(0);
  });

  it('does not use the reply count with an adapter older than v1.3', async () => {
    const chip = new ScriptedElm327(twoEcuCar(), { identity: 'ELM327 v1.2' });
    const session = await openSession(chip);
    await session.connectVehicle();
    expect(session.requestMode).toMatchObject({
      multiPid: true,
      replyCount: false,
      replyCountEvidence: 'the chip is older than ELM327 v1.3',
    });
    await session.discoverSupportedPids();
    await session.readPids([0x0c]);
    expect(chip.commands.at(-1)).toBe('010C');
  });

  it('reads stored DTCs of both ECUs, a multi-frame list included', async () => {
    const chip = new ScriptedElm327(
      twoEcuCar({
        dtcs: {
          // 5 codes: 43 05 + 10 bytes = 12 bytes, two frames.
          '7E8': [0x01, 0x33, 0x03, 0x00, 0x03, 0x01, 0x04, 0x20, 0x11, 0x71],
          '7E9': [0x07, 0x00],
        },
      }),
    );
    const session = await openSession(chip);
    await session.connectVehicle();
    const result = await session.readTroubleCodes('stored');
    expect(result.codes.map((c) => `${c.ecu} ${c.code}`)).toEqual([
      '7E8 P0133',
      '7E8 P0300',
      '7E8 P0301',
      '7E8 P0420',
      '7E8 P1171',
      '7E9 P0700',
    ]);
    expect(result.codes.find((c) => c.code === 'P1171')!.description).toBe(
      'manufacturer-specific or unknown',
    );
  });

  it('reads the VIN from the ECU that has it while the other refuses (7F 09 12)', async () => {
    const chip = new ScriptedElm327(twoEcuCar());
    const session = await openSession(chip);
    await session.connectVehicle();
    expect(await session.readVin()).toEqual({
      ecu: '7E8',
      vin: '1M8GDM9AXKP042788',
      valid: true,
      problems: [],
      checkDigitValid: true,
    });
  });

  it('turns an answer where every ECU refused into ObdNegativeResponse', async () => {
    const chip = new ScriptedElm327((cmd) => (cmd === '0904' ? ['7E8037F0411'] : twoEcuCar()(cmd)));
    const session = await openSession(chip);
    await session.connectVehicle();
    await expect(session.request('0904')).rejects.toMatchObject({
      code: AgentErrorCode.ObdNegativeResponse,
      message: expect.stringMatching(/7E8 refused .*11: service not supported/),
    });
    // readCalibrationIds takes it as "none".
    expect(await session.readCalibrationIds()).toEqual([]);
  });

  it('skips "response pending" (7F xx 78) and takes the answer that follows', async () => {
    const chip = new ScriptedElm327((cmd) => (cmd === '04' ? ['7E8037F0478', '7E80144'] : twoEcuCar()(cmd)));
    const session = await openSession(chip);
    await session.connectVehicle();
    expect(await session.clearTroubleCodes(true)).toEqual(['7E8']);
  });
});

describe('ObdSession: the request mode the adapter takes', () => {
  /** A clone in front of the two-ECU car: `?` to any service 01 request of several PIDs. */
  const refusingMultiPid = (command: string): ScriptedAnswer | undefined =>
    /^01([0-9A-F]{2}){2,6}[0-9A-F]?$/.test(command) && !/^010000/.test(command)
      ? ['?']
      : twoEcuCar()(command);

  it('probes with two PIDs the engine ECU announced; a PID only the transmission has is no refusal', async () => {
    const chip = new ScriptedElm327(twoEcuCar());
    const session = await openSession(chip);
    await session.connectVehicle();
    await session.discoverSupportedPids();
    // 7E8 answers 0C 0D, 7E9 0D: two frames expected.
    expect(await session.detectRequestMode()).toEqual({
      multiPid: true,
      replyCount: true,
      multiPidEvidence: '010C0D2: answered 0C 0D',
      replyCountEvidence: '010C1: answered',
    });
    expect(chip.commands.slice(-2)).toEqual(['010C1', '010C0D2']);
    await session.readPids([0x0c, 0x0d, 0x2f]);
    expect(chip.commands.at(-1)).toBe('010C0D2F3');
    expect(session.stats.requestModeFallbacks).toBe(0);
  });

  it('an ECU announcing a PID it never answers is not taken for a first-PID-only adapter', async () => {
    const chip = new ScriptedElm327(twoEcuCar({ mute: [0x11] }));
    const session = await openSession(chip);
    await session.connectVehicle();
    await session.discoverSupportedPids();
    const readings = await session.readPids([0x0c, 0x11, 0x2f]);
    expect(readings.map((r) => r.pid)).toEqual([0x0c, 0x2f]);
    // 11 was asked alone, went unanswered there too: the adapter is not at fault.
    expect(chip.commands.slice(-2)).toEqual(['010C112F2', '01111']);
    expect(session.requestMode.multiPid).toBe(true);
    expect(session.stats.requestModeFallbacks).toBe(0);
  });

  it('falls back to single PIDs on the first `?` to several, confirmed by one PID answered', async () => {
    const chip = new ScriptedElm327(refusingMultiPid);
    const session = await openSession(chip);
    await session.connectVehicle();
    await session.discoverSupportedPids();
    // No probe: the poll itself meets the refusal.
    const readings = await session.readPids([0x0c, 0x0d, 0x2f]);
    expect(readings.map((r) => `${r.ecu}:${r.pid.toString(16)}=${r.value}`)).toEqual([
      '7E8:c=1726',
      '7E8:d=50',
      '7E9:d=49',
      '7E8:2f=80',
    ]);
    // The digit is dropped only if the plain line is understood: it is not, so it stays.
    expect(chip.commands.slice(-5)).toEqual(['010C0D2F3', '010C0D2F', '010C1', '010D2', '012F1']);
    expect(session.requestMode).toMatchObject({
      multiPid: false,
      replyCount: true,
      multiPidEvidence: '010C0D2F3: ?; one PID answered',
    });
    expect(session.stats.requestModeFallbacks).toBe(1);
    await session.readPids([0x0c, 0x0d]);
    expect(chip.commands.slice(-2)).toEqual(['010C1', '010D2']);
  });

  it('a vehicle that went silent (NO DATA to single PIDs too) changes nothing', async () => {
    let silent = false;
    const chip = new ScriptedElm327((command) =>
      silent && command.startsWith('01') ? ['NO DATA'] : twoEcuCar()(command),
    );
    const session = await openSession(chip);
    await session.connectVehicle();
    await session.discoverSupportedPids();
    await session.detectRequestMode();
    silent = true;
    await expect(session.readPids([0x0c, 0x0d, 0x2f])).rejects.toMatchObject({
      code: AgentErrorCode.ObdNoData,
    });
    // One single PID asked to tell a refusal from silence, not every PID.
    expect(chip.commands.slice(-2)).toEqual(['010C0D2F3', '010C1']);
    expect(session.requestMode.multiPid).toBe(true);
    expect(session.stats.requestModeFallbacks).toBe(0);
  });

  it("'off' settings are kept as told: one PID per request, no digit, nothing probed", async () => {
    const chip = new ScriptedElm327(twoEcuCar());
    const session = await openSession(chip, { multiPid: 'off', replyCount: 'off' });
    await session.connectVehicle();
    await session.discoverSupportedPids();
    const before = chip.commands.length;
    expect(await session.detectRequestMode()).toMatchObject({
      multiPid: false,
      replyCount: false,
      multiPidEvidence: 'turned off',
    });
    expect(chip.commands.length).toBe(before);
    await session.readPids([0x0c, 0x0d]);
    expect(chip.commands.slice(-2)).toEqual(['010C', '010D']);
  });
});

describe('ObdSession: finding the vehicle', () => {
  it('falls back protocol by protocol when the automatic search fails', async () => {
    let fixed = 0;
    const chip = new ScriptedElm327(
      (cmd) => {
        const sp = /^ATSP([0-9A-C])$/.exec(cmd);
        if (sp) {
          fixed = Number.parseInt(sp[1]!, 16);
          return ['OK'];
        }
        if (cmd === 'ATDPN') return [fixed === 0 ? 'A0' : String(fixed)];
        if (cmd.startsWith('01')) {
          if (fixed === 0) return ['SEARCHING...', 'UNABLE TO CONNECT'];
          if (fixed !== 3) return [fixed >= 6 ? 'CAN ERROR' : 'BUS INIT: ...ERROR'];
          // ISO 9141-2 with headers: 48 6B 10, data, checksum.
          return cmd === '0100' ? ['BUS INIT: ...OK', '486B104100BE3FA813C4'] : ['486B10410D3200'];
        }
        return undefined;
      },
      { protocol: '3' },
    );
    const session = await openSession(chip);
    const protocol = await session.connectVehicle();
    expect(protocol).toMatchObject({ number: 3, format: 'legacy' });
    expect(session.protocolAuto).toBe(false);
    expect(chip.commands.filter((c) => c.startsWith('ATSP'))).toEqual([
      'ATSP0',
      'ATSP6',
      'ATSP8',
      'ATSP7',
      'ATSP9',
      'ATSP3',
    ]);
    // K-line: one PID per request, no reply count.
    expect(await session.readPids([0x0d])).toEqual([{ pid: 0x0d, ecu: '10', data: [0x32], value: 50 }]);
    expect(chip.commands.at(-1)).toBe('010D');
  });

  it('ignition off: ObdNoVehicle with the supply voltage, auto protocol restored', async () => {
    const chip = new ScriptedElm327((cmd) =>
      cmd.startsWith('01')
        ? ['SEARCHING...', 'UNABLE TO CONNECT']
        : /^ATSP[1-9A-C]$/.test(cmd)
          ? ['OK']
          : undefined,
    );
    const session = await openSession(chip, { protocolFallbacks: [6, 3] });
    await expect(session.connectVehicle()).rejects.toMatchObject({
      code: AgentErrorCode.ObdNoVehicle,
      message: expect.stringMatching(/ignition off.*12\.6 V/),
    });
    expect(chip.commands.filter((c) => c.startsWith('ATSP'))).toEqual(['ATSP0', 'ATSP6', 'ATSP3', 'ATSP0']);
  });

  it('an adapter on the bench (below 6 V) is not on a vehicle: no fallbacks tried', async () => {
    const chip = new ScriptedElm327((cmd) => (cmd.startsWith('01') ? ['NO DATA'] : undefined), {
      voltage: '0.3V',
    });
    const session = await openSession(chip);
    await expect(session.connectVehicle()).rejects.toMatchObject({
      code: AgentErrorCode.ObdNoVehicle,
      message: expect.stringMatching(/0\.3 V, below 6 V/),
    });
    expect(chip.commands.filter((c) => /^ATSP[1-9A-C]$/.test(c))).toEqual([]);
  });
});

describe('Elm327Connection: baud rate and identity', () => {
  it('tries 38400, 9600, 230400, 115200 ... and keeps the rate the chip answers at', async () => {
    const opened: number[] = [];
    const connection = await Elm327Connection.open({
      baudRates: BAUD_RATES,
      log,
      probeTimeoutMs: 50,
      open: async (baud) => {
        opened.push(baud);
        if (baud === 115_200) return new ScriptedElm327(() => undefined);
        // At a wrong rate the chip's answers arrive as garbage bytes (a '>' among them by chance).
        const chip: ScriptedElm327 = new ScriptedElm327(() => {
          setTimeout(() => chip.emit(Uint8Array.from([0xf0, 0x3e, 0x8c, 0x7e, 0x20, 0x3e])), 1);
          return null;
        });
        return chip;
      },
    });
    expect(opened).toEqual([38_400, 9600, 230_400, 115_200]);
    expect(connection.baudRate).toBe(115_200);
    expect(connection.identity.description).toBe('ELM327 v1.5');
  });

  it('says no adapter answers after every rate (ObdAdapterNotFound) and passes port errors through', async () => {
    await expect(
      Elm327Connection.open({
        baudRates: [38_400, 9600],
        log,
        probeTimeoutMs: 30,
        open: async () => new ScriptedElm327(() => null),
      }),
    ).rejects.toMatchObject({
      code: AgentErrorCode.ObdAdapterNotFound,
      message: expect.stringMatching(/38400, 9600 baud/),
    });
    await expect(
      Elm327Connection.open({
        log,
        open: async () => {
          throw new AgentError(AgentErrorCode.PortNotFound, 'serial port /dev/x does not exist');
        },
      }),
    ).rejects.toMatchObject({ code: AgentErrorCode.PortNotFound });
  });

  it('tells an STN chip (STI answers) from an ELM327 clone', async () => {
    const stn = await Elm327Connection.open({
      log,
      open: async () =>
        new ScriptedElm327(() => undefined, { identity: 'ELM327 v1.4b', stn: 'STN1110 v4.0.1' }),
    });
    expect(stn.identity).toMatchObject({
      chip: 'STN',
      stn: 'STN1110 v4.0.1',
      version: '1.4',
      replyCount: true,
    });
    expect(parseIdentity('ELM327 v2.1', null, null)).toMatchObject({
      chip: 'ELM327',
      version: '2.1',
      replyCount: true,
    });
    expect(parseIdentity('ELM327 v1.0', null, null).replyCount).toBe(false);
    expect(parseIdentity('OBDII v1', null, null)).toMatchObject({
      chip: 'unknown',
      version: null,
      replyCount: false,
    });
  });

  it('retries ATZ a freshly powered adapter missed', async () => {
    let resets = 0;
    const chip = new ScriptedElm327((cmd) => (cmd === 'ATZ' && ++resets === 1 ? null : undefined));
    const connection = await Elm327Connection.open({ log, resetTimeoutMs: 100, open: async () => chip });
    expect(resets).toBe(2);
    expect(connection.identity.description).toBe('ELM327 v1.5');
  });
});
