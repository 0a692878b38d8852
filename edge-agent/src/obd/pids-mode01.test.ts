import { describe, expect, it } from 'vitest';
import { findPid, formatPidValue, MODE01, type PidValue } from './pids.ts';

/**
 * Every service 01 PID of the table against values worked out by hand from the SAE J1979-DA
 * formulas (A, B, ... = data bytes; the arithmetic is in the comment of each case). Edge values:
 * 0, the maximum, negative temperatures, two's complement pressures.
 */
type Case = [pid: number, data: number[], expected: PidValue, note?: string];

const T = true;
const F = false;

const CASES: Case[] = [
  // 00: BE=1011 1110 -> 01 03 04 05 06 07; 1F=0001 1111 -> 0C 0D 0E 0F 10; A8=1010 1000 -> 11 13 15;
  // 13=0001 0011 -> 1C 1F 20.
  [0x00, [0xbe, 0x1f, 0xa8, 0x13], '01 03 04 05 06 07 0C 0D 0E 0F 10 11 13 15 1C 1F 20'],
  [0x00, [0x00, 0x00, 0x00, 0x00], ''],
  // 01 spark: A=83 -> MIL on, 3 codes; B=07 -> misfire/fuel/components available, complete;
  // C=65=0110 0101 -> catalyst, evap, O2, O2 heater available; D=04 -> evap incomplete.
  [
    0x01,
    [0x83, 0x07, 0x65, 0x04],
    {
      milOn: T,
      dtcCount: 3,
      ignition: 'spark',
      misfire: 'complete',
      fuelSystem: 'complete',
      components: 'complete',
      catalyst: 'complete',
      heatedCatalyst: 'not available',
      evapSystem: 'incomplete',
      secondaryAirSystem: 'not available',
      acRefrigerant: 'not available',
      oxygenSensor: 'complete',
      oxygenSensorHeater: 'complete',
      egrSystem: 'not available',
    },
  ],
  // 01 compression: B=19=0001 1001 -> compression, misfire available and incomplete;
  // C=41 -> NMHC catalyst (bit 0) and PM filter (bit 6) available; D=40 -> PM filter incomplete.
  [
    0x01,
    [0x00, 0x19, 0x41, 0x40],
    {
      milOn: F,
      dtcCount: 0,
      ignition: 'compression',
      misfire: 'incomplete',
      fuelSystem: 'not available',
      components: 'not available',
      nmhcCatalyst: 'complete',
      noxScrMonitor: 'not available',
      boostPressure: 'not available',
      exhaustGasSensor: 'not available',
      pmFilter: 'incomplete',
      egrVvtSystem: 'not available',
    },
  ],
  // 02: 01 33 -> 00|00 = P, then 0133; C1 00 -> 11|00 0001 = U0100; 00 00 -> none.
  [0x02, [0x01, 0x33], 'P0133'],
  [0x02, [0xc1, 0x00], 'U0100'],
  [0x02, [0x00, 0x00], ''],
  [0x03, [0x02, 0x00], { system1: 'closed loop: oxygen sensor feedback', system2: null }],
  [
    0x03,
    [0x08, 0x10],
    {
      system1: 'open loop: system failure',
      system2: 'closed loop: fault in at least one oxygen sensor feedback',
    },
  ],
  [0x04, [0x00], 0],
  [0x04, [0xff], 100],
  [0x04, [0x80], 12800 / 255, '100*128/255 = 50.196'],
  [0x05, [0x00], -40],
  [0x05, [0x14], -20, '20 - 40'],
  [0x05, [0xff], 215],
  [0x06, [0x00], -100, '100*0/128 - 100'],
  [0x06, [0x80], 0],
  [0x06, [0xff], 99.21875, '100*255/128 - 100'],
  [0x07, [0x70], -12.5, '100*112/128 - 100 = 87.5 - 100'],
  [0x08, [0x90], 12.5, '100*144/128 - 100 = 112.5 - 100'],
  [0x09, [0xff], 99.21875],
  [0x0a, [0xff], 765, '3 * 255'],
  [0x0a, [0x64], 300, '3 * 100'],
  [0x0b, [0x65], 101],
  [0x0c, [0x1a, 0xf8], 1726, '(256*26 + 248) / 4 = 6904 / 4'],
  [0x0c, [0xff, 0xff], 16383.75],
  [0x0d, [0x32], 50],
  [0x0d, [0xff], 255],
  [0x0e, [0x00], -64, '0/2 - 64'],
  [0x0e, [0x80], 0, '128/2 - 64'],
  [0x0e, [0xff], 63.5, '255/2 - 64'],
  [0x0f, [0x00], -40],
  [0x0f, [0x3c], 20, '60 - 40'],
  [0x10, [0x01, 0x2c], 3, '300 / 100'],
  [0x10, [0xff, 0xff], 655.35],
  [0x11, [0xff], 100],
  [0x11, [0x33], 20, '100*51/255'],
  [0x12, [0x04], 'from the outside atmosphere or off'],
  [0x12, [0x01], 'upstream'],
  // 13: 13 = 0001 0011 -> bits 0, 1 (bank 1 sensors 1, 2) and 4 (bank 2 sensor 1).
  [0x13, [0x13], { b1s1: T, b1s2: T, b1s3: F, b1s4: F, b2s1: T, b2s2: F, b2s3: F, b2s4: F }],
  // 14-1B: A/200 V, 100B/128 - 100 %, B = FF: not used for trim.
  [0x14, [0x5a, 0x80], { voltageV: 0.45, shortTermFuelTrimPct: 0 }, '90/200'],
  [0x15, [0x00, 0xff], { voltageV: 0, shortTermFuelTrimPct: null }],
  [0x16, [0xff, 0x00], { voltageV: 1.275, shortTermFuelTrimPct: -100 }],
  [0x17, [0x64, 0x70], { voltageV: 0.5, shortTermFuelTrimPct: -12.5 }],
  [0x18, [0xc8, 0x90], { voltageV: 1, shortTermFuelTrimPct: 12.5 }],
  [0x19, [0x14, 0x80], { voltageV: 0.1, shortTermFuelTrimPct: 0 }],
  [0x1a, [0x28, 0x80], { voltageV: 0.2, shortTermFuelTrimPct: 0 }],
  [0x1b, [0x3c, 0x00], { voltageV: 0.3, shortTermFuelTrimPct: -100 }],
  [0x1c, [0x06], { code: 6, name: 'EOBD (Europe)' }],
  [0x1c, [0x01], { code: 1, name: 'OBD-II (CARB)' }],
  [0x1c, [0x0e], { code: 14, name: 'reserved' }],
  [0x1c, [0xfb], { code: 251, name: 'not available for assignment' }],
  // 1D: 81 = 1000 0001 -> bank 1 sensor 1 and bank 4 sensor 2.
  [0x1d, [0x81], { b1s1: T, b1s2: F, b2s1: F, b2s2: F, b3s1: F, b3s2: F, b4s1: F, b4s2: T }],
  [0x1e, [0x01], { ptoActive: T }],
  [0x1e, [0x00], { ptoActive: F }],
  [0x1f, [0x01, 0x00], 256],
  [0x1f, [0xff, 0xff], 65535],
  // 20: bit A7 -> 21, bit D0 -> 40.
  [0x20, [0x80, 0x00, 0x00, 0x01], '21 40'],
  [0x21, [0x00, 0x0a], 10],
  [0x22, [0x01, 0x00], 20.224, '0.079 * 256'],
  [0x23, [0xff, 0xff], 655350, '10 * 65535'],
  [0x23, [0x00, 0x00], 0],
  // 24-2B: 2/65536 (256A+B) ratio, 8/65536 (256C+D) V.
  [0x24, [0x80, 0x00, 0x80, 0x00], { equivalenceRatio: 1, voltageV: 4 }, '2*32768/65536, 8*32768/65536'],
  [0x25, [0xff, 0xff, 0xff, 0xff], { equivalenceRatio: 1.999969482421875, voltageV: 7.9998779296875 }],
  [0x26, [0x00, 0x00, 0x00, 0x00], { equivalenceRatio: 0, voltageV: 0 }],
  [0x27, [0x40, 0x00, 0x20, 0x00], { equivalenceRatio: 0.5, voltageV: 1 }, '2*16384/65536, 8*8192/65536'],
  [0x28, [0x80, 0x00, 0x20, 0x00], { equivalenceRatio: 1, voltageV: 1 }],
  [0x29, [0x40, 0x00, 0x80, 0x00], { equivalenceRatio: 0.5, voltageV: 4 }],
  [0x2a, [0xc0, 0x00, 0x40, 0x00], { equivalenceRatio: 1.5, voltageV: 2 }, '2*49152/65536'],
  [0x2b, [0x80, 0x00, 0x00, 0x00], { equivalenceRatio: 1, voltageV: 0 }],
  [0x2c, [0x33], 20],
  [0x2d, [0x00], -100],
  [0x2e, [0xcc], 80, '100*204/255'],
  [0x2f, [0xff], 100],
  [0x2f, [0x00], 0],
  [0x30, [0x0f], 15],
  [0x31, [0x12, 0x34], 4660, '256*18 + 52'],
  // 32: two's complement / 4 Pa.
  [0x32, [0x00, 0x04], 1],
  [0x32, [0xff, 0xfc], -1, '0xFFFC = -4; -4/4'],
  [0x32, [0x80, 0x00], -8192, '-32768 / 4'],
  [0x32, [0x7f, 0xff], 8191.75, '32767 / 4'],
  [0x33, [0x65], 101],
  // 34-3B: ratio as 24, current (256C+D)/256 - 128 mA.
  [0x34, [0x80, 0x00, 0x80, 0x00], { equivalenceRatio: 1, currentMa: 0 }, '32768/256 - 128'],
  [0x35, [0x00, 0x00, 0x00, 0x00], { equivalenceRatio: 0, currentMa: -128 }],
  [0x36, [0x80, 0x00, 0x81, 0x80], { equivalenceRatio: 1, currentMa: 1.5 }, '(256*129 + 128)/256 - 128'],
  [0x37, [0xff, 0xff, 0xff, 0xff], { equivalenceRatio: 1.999969482421875, currentMa: 127.99609375 }],
  [0x38, [0x40, 0x00, 0x7f, 0x00], { equivalenceRatio: 0.5, currentMa: -1 }, '127 - 128'],
  [0x39, [0x80, 0x00, 0x80, 0x00], { equivalenceRatio: 1, currentMa: 0 }],
  [0x3a, [0x80, 0x00, 0x90, 0x00], { equivalenceRatio: 1, currentMa: 16 }, '144 - 128'],
  [0x3b, [0x80, 0x00, 0x70, 0x00], { equivalenceRatio: 1, currentMa: -16 }, '112 - 128'],
  // 3C-3F: (256A+B)/10 - 40 °C.
  [0x3c, [0x00, 0x00], -40],
  [0x3c, [0x0f, 0xa0], 360, '4000/10 - 40'],
  [0x3d, [0xff, 0xff], 6513.5, '6553.5 - 40'],
  [0x3e, [0x01, 0x90], 0, '400/10 - 40'],
  [0x3f, [0x0f, 0xa0], 360],
  // 40: 44 = 0100 0100 -> 42 and 46.
  [0x40, [0x44, 0x00, 0x00, 0x00], '42 46'],
  [
    0x41,
    [0xff, 0x07, 0x00, 0x00],
    {
      milOn: null,
      dtcCount: null,
      ignition: 'spark',
      misfire: 'complete',
      fuelSystem: 'complete',
      components: 'complete',
      catalyst: 'not available',
      heatedCatalyst: 'not available',
      evapSystem: 'not available',
      secondaryAirSystem: 'not available',
      acRefrigerant: 'not available',
      oxygenSensor: 'not available',
      oxygenSensorHeater: 'not available',
      egrSystem: 'not available',
    },
  ],
  [0x42, [0x31, 0x0a], 12.554, '0x310A = 12554 / 1000'],
  [0x42, [0xff, 0xff], 65.535],
  [0x43, [0xff, 0xff], 25700, '100/255 * 65535'],
  [0x43, [0x00, 0xff], 100],
  [0x44, [0x80, 0x00], 1],
  [0x44, [0x00, 0x00], 0],
  [0x45, [0xff], 100],
  [0x46, [0x14], -20],
  [0x46, [0x00], -40],
  [0x47, [0x33], 20],
  [0x48, [0x66], 40, '100*102/255'],
  [0x49, [0x99], 60, '100*153/255'],
  [0x4a, [0xcc], 80],
  [0x4b, [0xff], 100],
  [0x4c, [0x00], 0],
  [0x4d, [0x00, 0x3c], 60],
  [0x4e, [0x01, 0x2c], 300],
  [
    0x4f,
    [0x02, 0x01, 0x80, 0x19],
    {
      equivalenceRatio: 2,
      oxygenSensorVoltageV: 1,
      oxygenSensorCurrentMa: 128,
      intakeManifoldPressureKpa: 250,
    },
  ],
  [0x50, [0x19, 0x00, 0x00, 0x00], 250, '10 * 25'],
  [0x51, [0x04], { code: 4, name: 'diesel' }],
  [0x51, [0x01], { code: 1, name: 'gasoline' }],
  [0x51, [0x17], { code: 23, name: 'bifuel running diesel' }],
  [0x51, [0x63], { code: 99, name: 'reserved' }],
  [0x52, [0xff], 100],
  [0x53, [0x4e, 0x20], 100, '20000 / 200'],
  [0x53, [0xff, 0xff], 327.675],
  // 54: two's complement Pa.
  [0x54, [0xff, 0xff], -1],
  [0x54, [0x80, 0x00], -32768],
  [0x54, [0x7f, 0xff], 32767],
  [0x55, [0x80, 0x00], { bank1Pct: 0, bank3Pct: -100 }],
  [0x56, [0xff, 0x80], { bank1Pct: 99.21875, bank3Pct: 0 }],
  [0x57, [0x70, 0x90], { bank2Pct: -12.5, bank4Pct: 12.5 }],
  [0x58, [0x80, 0x80], { bank2Pct: 0, bank4Pct: 0 }],
  [0x59, [0x00, 0x64], 1000],
  [0x5a, [0xff], 100],
  [0x5b, [0x80], 12800 / 255],
  [0x5c, [0x00], -40],
  [0x5c, [0xfa], 210, '250 - 40'],
  [0x5d, [0x69, 0x00], 0, '26880/128 - 210'],
  [0x5d, [0x00, 0x00], -210],
  [0x5d, [0xff, 0xff], 301.9921875, '65535/128 - 210'],
  [0x5e, [0x00, 0xc8], 10, '200 / 20'],
  [0x5e, [0xff, 0xff], 3276.75],
  [0x5f, [0x0e], { code: 14, name: 'heavy duty vehicles (EURO IV) B1' }],
  [0x60, [0x00, 0x00, 0x00, 0x00], ''],
  [0x61, [0x7d], 0, '125 - 125'],
  [0x61, [0x00], -125],
  [0x62, [0xff], 130],
  [0x63, [0x01, 0x90], 400],
  [
    0x64,
    [0x7d, 0x96, 0xaf, 0xc8, 0xff],
    { idlePct: 0, point1Pct: 25, point2Pct: 50, point3Pct: 75, point4Pct: 130 },
  ],
  // 65: A = support bits, B = states.
  [
    0x65,
    [0x0f, 0x09],
    {
      ptoActive: T,
      autoTransmissionNeutralDriveBit: 0,
      manualTransmissionNeutralGearBit: 0,
      glowPlugLampOn: T,
    },
  ],
  [
    0x65,
    [0x00, 0xff],
    {
      ptoActive: null,
      autoTransmissionNeutralDriveBit: null,
      manualTransmissionNeutralGearBit: null,
      glowPlugLampOn: null,
    },
  ],
  // 66: (256B+C)/32 and (256D+E)/32 g/s when A0 / A1 set.
  [0x66, [0x03, 0x01, 0x00, 0x00, 0x40], { sensorAGs: 8, sensorBGs: 2 }, '256/32, 64/32'],
  [0x66, [0x01, 0x01, 0x00, 0x00, 0x40], { sensorAGs: 8, sensorBGs: null }],
  [0x67, [0x01, 0x5a, 0x00], { sensor1C: 50, sensor2C: null }, '90 - 40'],
  [0x67, [0x03, 0x00, 0xff], { sensor1C: -40, sensor2C: 215 }],
  [
    0x68,
    [0x3f, 0x28, 0x00, 0x50, 0x28, 0x28, 0x28],
    {
      bank1Sensor1C: 0,
      bank1Sensor2C: -40,
      bank1Sensor3C: 40,
      bank2Sensor1C: 0,
      bank2Sensor2C: 0,
      bank2Sensor3C: 0,
    },
  ],
  [
    0x69,
    [0x3f, 0x33, 0x66, 0x80, 0xff, 0x00, 0x00],
    {
      commandedEgrADutyPct: 20,
      actualEgrADutyPct: 40,
      egrAErrorPct: 0,
      commandedEgrBDutyPct: 100,
      actualEgrBDutyPct: 0,
      egrBErrorPct: -100,
    },
  ],
  // 6A: A = 05 -> only fields 0 and 2 present.
  [
    0x6a,
    [0x05, 0x33, 0x00, 0xcc, 0x00],
    { commandedAPct: 20, relativePositionAPct: null, commandedBPct: 80, relativePositionBPct: null },
  ],
  [
    0x6b,
    [0x0f, 0x00, 0x28, 0x50, 0xff],
    { bank1Sensor1C: -40, bank1Sensor2C: 0, bank2Sensor1C: 40, bank2Sensor2C: 215 },
  ],
  [
    0x6c,
    [0x0f, 0xff, 0x00, 0x33, 0x66],
    { commandedAPct: 100, relativePositionAPct: 0, commandedBPct: 20, relativePositionBPct: 40 },
  ],
  // 6D: 10 kPa units; 2710 = 10000, 270F = 9999; temperatures A - 40.
  [
    0x6d,
    [0x3f, 0x27, 0x10, 0x27, 0x0f, 0x50, 0x00, 0x01, 0x00, 0x02, 0x00],
    {
      commandedRailPressureAKpa: 100000,
      railPressureAKpa: 99990,
      railTemperatureAC: 40,
      commandedRailPressureBKpa: 10,
      railPressureBKpa: 20,
      railTemperatureBC: -40,
    },
  ],
  [
    0x6e,
    [0x0f, 0x00, 0x64, 0x00, 0xc8, 0x01, 0x2c, 0x01, 0x90],
    { commandedAKpa: 1000, actualAKpa: 2000, commandedBKpa: 3000, actualBKpa: 4000 },
  ],
  [0x6f, [0x03, 0x65, 0x66], { sensorAKpa: 101, sensorBKpa: 102 }],
  // 70: /32 kPa; 0C80 = 3200, 0C00 = 3072, FFE0 = 65504.
  [
    0x70,
    [0x0f, 0x0c, 0x80, 0x0c, 0x00, 0x00, 0x20, 0xff, 0xe0, 0x05],
    { commandedAKpa: 100, sensorAKpa: 96, commandedBKpa: 1, sensorBKpa: 2047, status: '05' },
  ],
  [
    0x71,
    [0x0f, 0x33, 0x66, 0x99, 0xcc, 0xa0],
    { commandedAPct: 20, positionAPct: 40, commandedBPct: 60, positionBPct: 80, status: 'A0' },
  ],
  [
    0x72,
    [0x03, 0xff, 0x00, 0x00, 0x00],
    { commandedAPct: 100, positionAPct: 0, commandedBPct: null, positionBPct: null },
  ],
  [0x73, [0x03, 0x27, 0x10, 0x00, 0x64], { bank1Kpa: 100, bank2Kpa: 1 }, '10000/100, 100/100'],
  [0x74, [0x01, 0x27, 0x10, 0x00, 0x00], { turboARpm: 100000, turboBRpm: null }, '10 * 10000'],
  // 75/76: B, C one byte - 40; DE, FG (256x+y)/10 - 40. 1F40 = 8000.
  [
    0x75,
    [0x0f, 0x28, 0x78, 0x1f, 0x40, 0x00, 0x00],
    { compressorInletC: 0, compressorOutletC: 80, turbineInletC: 760, turbineOutletC: -40 },
  ],
  [
    0x76,
    [0x0f, 0x00, 0xff, 0x01, 0x90, 0xff, 0xff],
    { compressorInletC: -40, compressorOutletC: 215, turbineInletC: 0, turbineOutletC: 6513.5 },
  ],
  [
    0x77,
    [0x0f, 0x28, 0x29, 0x2a, 0x2b],
    { bank1Sensor1C: 0, bank1Sensor2C: 1, bank2Sensor1C: 2, bank2Sensor2C: 3 },
  ],
  [
    0x78,
    [0x0f, 0x0f, 0xa0, 0x00, 0x00, 0x01, 0x90, 0xff, 0xff],
    { sensor1C: 360, sensor2C: -40, sensor3C: 0, sensor4C: 6513.5 },
  ],
  [
    0x79,
    [0x01, 0x0f, 0xa0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
    { sensor1C: 360, sensor2C: null, sensor3C: null, sensor4C: null },
  ],
  // 7A/7B: delta signed, FF9C = -100 -> -1 kPa.
  [
    0x7a,
    [0x07, 0xff, 0x9c, 0x27, 0x10, 0x00, 0x64],
    { deltaPressureKpa: -1, inletPressureKpa: 100, outletPressureKpa: 1 },
  ],
  [
    0x7b,
    [0x07, 0x00, 0x64, 0x00, 0x00, 0xff, 0xff],
    { deltaPressureKpa: 1, inletPressureKpa: 0, outletPressureKpa: 655.35 },
  ],
  [
    0x7c,
    [0x0f, 0x0f, 0xa0, 0x0f, 0xa0, 0x01, 0x90, 0x00, 0x00],
    { bank1InletC: 360, bank1OutletC: 360, bank2InletC: 0, bank2OutletC: -40 },
  ],
  [0x7d, [0x05], { insideControlArea: T, outsideControlArea: F, insideCarveOutArea: T, deficiencyActive: F }],
  [0x7e, [0x0a], { insideControlArea: F, outsideControlArea: T, insideCarveOutArea: F, deficiencyActive: T }],
  // 7F: three 32-bit second counters: 00010000 = 65536, 00000E10 = 3600, FFFFFFFF = 4294967295.
  [
    0x7f,
    [0x07, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x10, 0xff, 0xff, 0xff, 0xff],
    { totalS: 65536, idleS: 3600, ptoS: 4294967295 },
  ],
  [0x80, [0x00, 0x00, 0x00, 0x01], 'A0'],
  [
    0x81,
    Array.from({ length: 41 }, (_, i) => i),
    Array.from({ length: 41 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0')).join(''),
  ],
  [0x82, Array(41).fill(0xab), 'AB'.repeat(41)],
  [
    0x83,
    [0x0f, 0x00, 0x64, 0x01, 0x2c, 0x00, 0x00, 0xff, 0xff],
    { sensor1Ppm: 100, sensor2Ppm: 300, sensor3Ppm: 0, sensor4Ppm: 65535 },
  ],
  [0x84, [0x00], -40],
  [0x85, Array(10).fill(0x01), '01'.repeat(10)],
  [0x86, [1, 2, 3, 4, 5], '0102030405'],
  [0x87, [0x03, 0x0c, 0x80, 0x03, 0x20], { sensorAKpa: 100, sensorBKpa: 25 }, '3200/32, 800/32'],
  [0x88, Array(13).fill(0x10), '10'.repeat(13)],
  [0x89, Array(41).fill(0x00), '00'.repeat(41)],
  [0x8a, Array(41).fill(0xff), 'FF'.repeat(41)],
  [0x8b, Array(7).fill(0x22), '22'.repeat(7)],
  [0x8c, Array(17).fill(0x33), '33'.repeat(17)],
  [0x8d, [0xff], 100],
  [0x8e, [0x7d], 0],
  [0x8f, Array(7).fill(0x44), '44'.repeat(7)],
  [0x90, [0x01, 0x02, 0x03], '010203'],
  [0x91, [0x0a, 0x0b, 0x0c, 0x0d, 0x0e], '0A0B0C0D0E'],
  [0x92, [0xde, 0xad], 'DEAD'],
  [0x93, [0xbe, 0xef, 0x00], 'BEEF00'],
  [0x94, Array(12).fill(0x55), '55'.repeat(12)],
  [0x98, Array(9).fill(0x66), '66'.repeat(9)],
  [0x99, Array(9).fill(0x77), '77'.repeat(9)],
  [0x9a, Array(6).fill(0x88), '88'.repeat(6)],
  [0x9b, [0x01, 0x02, 0x03, 0x04], '01020304'],
  [0x9c, Array(17).fill(0x99), '99'.repeat(17)],
  [0x9d, [0x01, 0xf4, 0x00, 0x32], { engineGs: 10, vehicleGs: 1 }, '500/50, 50/50'],
  [0x9e, [0x03, 0xe8], 200, '1000 / 5'],
  [0x9f, Array(9).fill(0xaa), 'AA'.repeat(9)],
  // A0: 04 = 0000 0100 -> bit 5 of 32 -> A6.
  [0xa0, [0x04, 0x00, 0x00, 0x00], 'A6'],
  [
    0xa1,
    [0x01, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
    { sensor1Ppm: 100, sensor2Ppm: null, sensor3Ppm: null, sensor4Ppm: null },
  ],
  [0xa2, [0x00, 0x40], 2, '64 / 32'],
  [0xa2, [0xff, 0xff], 2047.96875],
  [0xa3, Array(9).fill(0x0c), '0C'.repeat(9)],
  // A4: A1 = supported; gear = high nibble of B; ratio (256C+D)/1000.
  [0xa4, [0x02, 0x30, 0x0b, 0xb8], { gear: 3, ratio: 3 }, '3000/1000'],
  [0xa4, [0x00, 0x30, 0x0b, 0xb8], { gear: null, ratio: null }],
  [0xa5, [0x01, 0x64, 0x00, 0x00], { dosingPct: 50 }, '100 / 2'],
  // A6: 000C9D64 = 826724 -> 82672.4 km.
  [0xa6, [0x00, 0x0c, 0x9d, 0x64], 82672.4],
  [0xa6, [0xff, 0xff, 0xff, 0xff], 429496729.5],
  [0xa6, [0x00, 0x00, 0x00, 0x00], 0],
  [0xa7, [0x01, 0x02, 0x03, 0x04], '01020304'],
  [0xa8, [0x05, 0x06, 0x07, 0x08], '05060708'],
  [0xa9, [0x01, 0x01, 0x00, 0x00], { absSwitchOn: T }],
  [0xa9, [0x00, 0x01, 0x00, 0x00], { absSwitchOn: null }],
  [0xc0, [0x00, 0x00, 0x00, 0x00], ''],
  [0xc3, [0x12, 0x34, 0x56], '123456'],
  [0xc4, [0x01], '01'],
];

/** Deep comparison with float tolerance (hand-worked decimals like 12800/255). */
function expectValue(actual: PidValue, expected: PidValue, label: string) {
  if (typeof expected === 'number') {
    expect(typeof actual, label).toBe('number');
    expect(actual as number, label).toBeCloseTo(expected, 9);
  } else if (typeof expected === 'string') {
    expect(actual, label).toBe(expected);
  } else {
    expect(typeof actual, label).toBe('object');
    const a = actual as Record<string, unknown>;
    expect(Object.keys(a).sort(), label).toEqual(Object.keys(expected).sort());
    for (const [k, v] of Object.entries(expected)) {
      if (typeof v === 'number') expect(a[k] as number, `${label}.${k}`).toBeCloseTo(v, 9);
      else expect(a[k], `${label}.${k}`).toBe(v);
    }
  }
}

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

describe('service 01 PID table (SAE J1979-DA)', () => {
  it.each(CASES.map(([pid, data, expected, note]) => [hex(pid), data, expected, note ?? '']))(
    'PID %s %j -> %j %s',
    (pidHex, data, expected) => {
      const def = MODE01.get(Number.parseInt(pidHex, 16))!;
      expect(def, pidHex).toBeDefined();
      expectValue(def.decode(data), expected, pidHex);
    },
  );

  it('has a hand-worked case for every PID in the table', () => {
    const tested = new Set(CASES.map(([pid]) => pid));
    const untested = [...MODE01.keys()].filter((p) => !tested.has(p)).map(hex);
    expect(untested).toEqual([]);
  });

  it('covers every PID J1979-DA defines from 00 to A9, plus C0, C3, C4', () => {
    // Gaps in J1979-DA: 95-97 and AA-BF, C1-C2 are reserved.
    const reserved = new Set([0x95, 0x96, 0x97]);
    const expected: number[] = [];
    for (let pid = 0x00; pid <= 0xa9; pid++) if (!reserved.has(pid)) expected.push(pid);
    expected.push(0xc0, 0xc3, 0xc4);
    expect([...MODE01.keys()].sort((a, b) => a - b)).toEqual(expected);
  });

  it('gives each PID a unique key, a name and a data length matching its cases', () => {
    const keys = new Set<string>();
    for (const def of MODE01.values()) {
      expect(def.name.length).toBeGreaterThan(0);
      expect(keys.has(def.key), def.key).toBe(false);
      keys.add(def.key);
    }
    for (const [pid, data] of CASES) {
      const def = MODE01.get(pid)!;
      if (def.bytes > 0) expect(data.length, hex(pid)).toBe(def.bytes);
    }
  });

  it('holds the J1979 data lengths of the common PIDs', () => {
    const lengths: Record<number, number> = {
      0: 4,
      1: 4,
      3: 2,
      4: 1,
      5: 1,
      12: 2,
      13: 1,
      16: 2,
      20: 2,
      31: 2,
      36: 4,
      47: 1,
      52: 4,
      60: 2,
      66: 2,
      79: 4,
      80: 4,
      81: 1,
      94: 2,
      100: 5,
      102: 5,
      104: 7,
      127: 13,
      129: 41,
      131: 9,
      157: 4,
      166: 4,
    };
    for (const [pid, bytes] of Object.entries(lengths))
      expect(MODE01.get(Number(pid))!.bytes, pid).toBe(bytes);
  });

  it('gives multi-value PIDs a unit per field', () => {
    expect(MODE01.get(0x14)!.fields).toEqual({ voltageV: 'V', shortTermFuelTrimPct: '%' });
    expect(MODE01.get(0x34)!.fields).toEqual({ equivalenceRatio: 'ratio', currentMa: 'mA' });
    expect(MODE01.get(0x4f)!.fields).toMatchObject({ intakeManifoldPressureKpa: 'kPa' });
  });
});

describe('findPid and formatPidValue', () => {
  it('finds a PID by hex, 01-prefixed hex, alias or key', () => {
    expect(findPid('0C')?.pid).toBe(0x0c);
    expect(findPid('0x0d')?.pid).toBe(0x0d);
    expect(findPid('012F')?.pid).toBe(0x2f);
    expect(findPid('rpm')?.pid).toBe(0x0c);
    expect(findPid('engineFuelRate')?.pid).toBe(0x5e);
    expect(findPid('FUELRATE')?.pid).toBe(0x5e);
    expect(findPid('nope')).toBeUndefined();
    expect(findPid('96')).toBeUndefined(); // reserved
  });

  it('prints values with their units', () => {
    expect(formatPidValue(MODE01.get(0x0c)!, 1726.25)).toBe('1726.25 rpm');
    expect(formatPidValue(MODE01.get(0x2f)!, 12800 / 255)).toBe('50.196 %');
    expect(formatPidValue(MODE01.get(0x14)!, { voltageV: 0.45, shortTermFuelTrimPct: null })).toBe(
      'voltageV=0.45 V, shortTermFuelTrimPct=n/a',
    );
  });
});
