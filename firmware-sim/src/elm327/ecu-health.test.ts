import { describe, expect, it } from 'vitest';
import { elmHarness, replyLines } from '../testing/elm-harness.ts';
import { fixedState, hexBytes } from '../testing/fixtures.ts';
import { DiagnosticMemory } from '../vehicle/diagnostics.ts';
import { VehicleModel, type VehicleState } from '../vehicle/model.ts';
import { OnBoardMonitors } from '../vehicle/monitors.ts';
import { EngineEcu } from './ecu.ts';

const VIN = '1SV7CE6F6RX068251';

/** An engine ECU over a state the test moves, and its answers as hex strings (CAN). */
function ecu(options: { monitors?: OnBoardMonitors } = {}) {
  let state: VehicleState = fixedState();
  const diagnostics = new DiagnosticMemory();
  const engine = new EngineEcu({ state: () => state }, { vin: VIN, diagnostics, ...options });
  const ask = (hex: string): string | null => {
    const answer = engine.respondOn('can', Uint8Array.from(hexBytes(hex)));
    return answer ? answer.map((m) => Buffer.from(m).toString('hex').toUpperCase()).join('|') : null;
  };
  return {
    diagnostics,
    ask,
    set: (next: Partial<VehicleState>) => {
      state = { ...state, ...next };
    },
  };
}

describe('service 02: freeze frame 0', () => {
  it('holds the state at the moment the first code was stored, until service 04', () => {
    const e = ecu();
    // No code yet: PID 02 says "no frame" (00 00), the data PIDs are not there.
    expect(e.ask('020200')).toBe('4202000000');
    expect(e.ask('020C00')).toBeNull();
    e.set({ rpm: 2400, speedKmh: 72, coolantC: 95, engineLoadPct: 60, throttlePct: 40 });
    e.diagnostics.store('P0301');
    e.set({ rpm: 800, speedKmh: 0, coolantC: 80, engineLoadPct: 20, throttlePct: 14 });
    e.diagnostics.store('P0171'); // a second code keeps the first one's frame
    expect(e.ask('020200')).toBe('420200' + '0301');
    // 0C: 2400 rpm x 4 = 0x2580; 0D: 72 km/h; 05: 95 + 40 = 0x87; 04: 60 % = 153 = 0x99;
    // 11: 40 % = 102 = 0x66 (J1979-DA scalings, as in service 01).
    expect(e.ask('020C00')).toBe('420C002580');
    expect(e.ask('020D00')).toBe('420D0048');
    expect(e.ask('020500')).toBe('42050087');
    expect(e.ask('020400')).toBe('42040099');
    expect(e.ask('021100')).toBe('42110066');
    // Several pairs in one request (CAN), frame 1 is not kept: left out.
    expect(e.ask('020D000C000D01')).toBe('420D0048' + '0C002580');
    // Support PID 00 lists 02 and the data PIDs (not 01, 21, 31): 02 04 05 0C 0D 0F 10 11 1F + 20.
    expect(e.ask('020000')).toBe('420000581B8003');
    e.ask('04');
    expect(e.ask('020200')).toBe('4202000000');
    expect(e.ask('020C00')).toBeNull();
  });
});

describe('service 01 PIDs 21 and 31: distances', () => {
  it('counts km with the MIL on and since the codes were cleared; service 04 resets both', () => {
    const e = ecu();
    expect(e.ask('012131')).toBe('41' + '210000' + '310000');
    e.set({ odometerKm: 12345.6 + 40.7 });
    e.diagnostics.store('P0420');
    e.set({ odometerKm: 12345.6 + 40.7 + 300.2 });
    // 21: 300 km with the lamp on (0x012C); 31: 340 km since the codes were (never) cleared (0x0154).
    expect(e.ask('012131')).toBe('41' + '21012C' + '310154');
    e.ask('04');
    expect(e.ask('012131')).toBe('41' + '210000' + '310000');
    e.set({ odometerKm: 12345.6 + 340.9 + 5.2 });
    expect(e.ask('012131')).toBe('41' + '210000' + '310005');
  });
});

describe('service 06: on-board monitor results (CAN)', () => {
  it('answers the support bitmaps and each test as OBDMID TID UASID value min max', () => {
    const e = ecu({ monitors: new OnBoardMonitors({ misfireCylinder: 2, misfirePct: 4, misfireLimit: 30 }) });
    // 21 and A2-A5 supported: each support MID sets its last bit while a MID lies above.
    expect(e.ask('0600')).toBe('460000000001');
    expect(e.ask('0620')).toBe('462080000001');
    expect(e.ask('06A0')).toBe('46A078000000');
    expect(e.ask('06C0')).toBeNull();
    expect(e.ask('0601')).toBeNull();
    // Catalyst bank 1: TID A9, raw, 420 (01A4) against min 200 (00C8), max FFFF.
    expect(e.ask('0621')).toBe('4621' + 'A9' + '01' + '01A4' + '00C8' + 'FFFF');
    // Cylinder 2 after 300 s of running at 4 %: 300 x 12.5 x 0.04 = 150 (0096) this cycle.
    const test = (mid: string, tid: string, value: string) => `${mid}${tid}24${value}0000001E`;
    expect(e.ask('06A3')).toBe(`46${test('A3', '0B', '0000')}${test('A3', '0C', '0096')}`);
    expect(e.ask('06A2')).toBe(`46${test('A2', '0B', '0000')}${test('A2', '0C', '0000')}`);
    // Next driving cycle: the EWMA takes a tenth of the last cycle's 150 = 15 (000F).
    e.set({ runTimeS: 10 });
    expect(e.ask('06A3')).toBe(`46${test('A3', '0B', '000F')}${test('A3', '0C', '0005')}`);
  });

  it('stays silent on the K-line (only the CAN format is simulated) and through the adapter splits', () => {
    const h = elmHarness({ monitors: new OnBoardMonitors({ misfireCylinder: 1 }) });
    h.send('ATE0');
    h.send('ATSP6');
    // 19 bytes: an ISO-TP multi-frame answer, printed as the ELM327 does (byte count, numbered
    // lines); cylinder 1 at 2 % for 300 s: 75 (4B) this cycle.
    expect(replyLines(h.send('06A2'))).toEqual([
      '013',
      '0: 46 A2 0B 24 00 00 ',
      '1: 00 00 00 1E A2 0C 24 ',
      '2: 00 4B 00 00 00 1E 00 ',
    ]);
    const k = elmHarness({ protocol: 'iso9141' });
    k.send('ATE0');
    k.send('ATSP3');
    expect(replyLines(k.send('0600'))).toContain('NO DATA');
  });
});

describe('battery: resting voltage, cranking dip, ageing', () => {
  it('dips ATRV to the cranking voltage at each start, lower every simulated hour at 24 V/day', () => {
    const model = new VehicleModel({
      seed: 7,
      startTimeMs: Date.UTC(2024, 4, 1, 6),
      battery: { crankV: 10.5, crankFadeVPerDay: 24, restingFadeVPerDay: 0, crankS: 2 },
    });
    const starts: { rest: number; crank: number; running: number }[] = [];
    for (let hour = 0; hour < 3; hour++) {
      model.setIgnition(false);
      for (let s = 0; s < 3600 - 120; s++) model.step();
      const rest = model.state().batteryV;
      model.setIgnition(true);
      const crank = model.state().batteryV;
      for (let s = 0; s < 119; s++) model.step();
      starts.push({ rest, crank, running: model.state().batteryV });
    }
    // Parked an hour: 12.65 V + the fading surface charge (0.3 x e^-5.8); charging 14.2 V after.
    for (const s of starts) {
      expect(s.rest).toBeCloseTo(12.65, 1);
      expect(s.running).toBeGreaterThan(14);
    }
    // One hour = 1 V less at each start (1/24 day x 24 V/day), within the sensor noise.
    expect(Math.abs(starts[0]!.crank - starts[1]!.crank - 1)).toBeLessThan(0.15);
    expect(Math.abs(starts[1]!.crank - starts[2]!.crank - 1)).toBeLessThan(0.15);
    expect(starts[2]!.crank).toBeLessThan(9.6);
  });
});
