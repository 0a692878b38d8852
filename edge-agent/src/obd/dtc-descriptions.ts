/**
 * Descriptions of common generic (SAE J2012 "core") trouble codes, as data. Codes whose second
 * character is 0 (P0xxx, C0xxx, B0xxx, U0xxx), and P2xxx / P34xx-P39xx, mean the same on every
 * vehicle; the others are the manufacturer's, described in its service information only.
 */

const O2_FAULTS = [
  'Circuit Malfunction',
  'Circuit Low Voltage',
  'Circuit High Voltage',
  'Circuit Slow Response',
  'Circuit No Activity Detected',
  'Heater Circuit Malfunction',
];

/**
 * O2 sensor blocks of six codes each (P0130-P0167, J2012): first code -> location. The codes
 * count in decimal (P0139, P0140), although each digit is a hex nibble on the wire.
 */
const O2_BLOCKS: readonly [number, string][] = [
  [130, 'Bank 1 Sensor 1'],
  [136, 'Bank 1 Sensor 2'],
  [142, 'Bank 1 Sensor 3'],
  [150, 'Bank 2 Sensor 1'],
  [156, 'Bank 2 Sensor 2'],
  [162, 'Bank 2 Sensor 3'],
];

const FIXED: Readonly<Record<string, string>> = {
  // Fuel and air metering
  P0100: 'Mass or Volume Air Flow Circuit Malfunction',
  P0101: 'Mass or Volume Air Flow Circuit Range/Performance Problem',
  P0102: 'Mass or Volume Air Flow Circuit Low Input',
  P0103: 'Mass or Volume Air Flow Circuit High Input',
  P0104: 'Mass or Volume Air Flow Circuit Intermittent',
  P0105: 'Manifold Absolute Pressure/Barometric Pressure Circuit Malfunction',
  P0106: 'Manifold Absolute Pressure/Barometric Pressure Circuit Range/Performance Problem',
  P0107: 'Manifold Absolute Pressure/Barometric Pressure Circuit Low Input',
  P0108: 'Manifold Absolute Pressure/Barometric Pressure Circuit High Input',
  P0109: 'Manifold Absolute Pressure/Barometric Pressure Circuit Intermittent',
  P0110: 'Intake Air Temperature Circuit Malfunction',
  P0111: 'Intake Air Temperature Circuit Range/Performance Problem',
  P0112: 'Intake Air Temperature Circuit Low Input',
  P0113: 'Intake Air Temperature Circuit High Input',
  P0114: 'Intake Air Temperature Circuit Intermittent',
  P0115: 'Engine Coolant Temperature Circuit Malfunction',
  P0116: 'Engine Coolant Temperature Circuit Range/Performance Problem',
  P0117: 'Engine Coolant Temperature Circuit Low Input',
  P0118: 'Engine Coolant Temperature Circuit High Input',
  P0119: 'Engine Coolant Temperature Circuit Intermittent',
  P0120: 'Throttle/Pedal Position Sensor/Switch A Circuit Malfunction',
  P0121: 'Throttle/Pedal Position Sensor/Switch A Circuit Range/Performance Problem',
  P0122: 'Throttle/Pedal Position Sensor/Switch A Circuit Low Input',
  P0123: 'Throttle/Pedal Position Sensor/Switch A Circuit High Input',
  P0124: 'Throttle/Pedal Position Sensor/Switch A Circuit Intermittent',
  P0125: 'Insufficient Coolant Temperature for Closed Loop Fuel Control',
  P0126: 'Insufficient Coolant Temperature for Stable Operation',
  P0127: 'Intake Air Temperature Too High',
  P0128: 'Coolant Thermostat (Coolant Temperature Below Thermostat Regulating Temperature)',
  P0129: 'Barometric Pressure Too Low',
  P0148: 'Fuel Delivery Error',
  P0149: 'Fuel Timing Error',
  P0168: 'Fuel Temperature Too High',
  P0169: 'Incorrect Fuel Composition',
  P0170: 'Fuel Trim Malfunction (Bank 1)',
  P0171: 'System Too Lean (Bank 1)',
  P0172: 'System Too Rich (Bank 1)',
  P0173: 'Fuel Trim Malfunction (Bank 2)',
  P0174: 'System Too Lean (Bank 2)',
  P0175: 'System Too Rich (Bank 2)',
  P0176: 'Fuel Composition Sensor Circuit Malfunction',
  P0177: 'Fuel Composition Sensor Circuit Range/Performance',
  P0178: 'Fuel Composition Sensor Circuit Low Input',
  P0179: 'Fuel Composition Sensor Circuit High Input',
  P0180: 'Fuel Temperature Sensor A Circuit Malfunction',
  P0181: 'Fuel Temperature Sensor A Circuit Range/Performance',
  P0182: 'Fuel Temperature Sensor A Circuit Low Input',
  P0183: 'Fuel Temperature Sensor A Circuit High Input',
  P0184: 'Fuel Temperature Sensor A Circuit Intermittent',
  P0185: 'Fuel Temperature Sensor B Circuit Malfunction',
  P0186: 'Fuel Temperature Sensor B Circuit Range/Performance',
  P0187: 'Fuel Temperature Sensor B Circuit Low Input',
  P0188: 'Fuel Temperature Sensor B Circuit High Input',
  P0189: 'Fuel Temperature Sensor B Circuit Intermittent',
  P0190: 'Fuel Rail Pressure Sensor Circuit Malfunction',
  P0191: 'Fuel Rail Pressure Sensor Circuit Range/Performance',
  P0192: 'Fuel Rail Pressure Sensor Circuit Low Input',
  P0193: 'Fuel Rail Pressure Sensor Circuit High Input',
  P0194: 'Fuel Rail Pressure Sensor Circuit Intermittent',
  P0195: 'Engine Oil Temperature Sensor Malfunction',
  P0196: 'Engine Oil Temperature Sensor Range/Performance',
  P0197: 'Engine Oil Temperature Sensor Low',
  P0198: 'Engine Oil Temperature Sensor High',
  P0199: 'Engine Oil Temperature Sensor Intermittent',
  // Fuel and air metering (injector circuit)
  P0200: 'Injector Circuit Malfunction',
  P0201: 'Injector Circuit Malfunction - Cylinder 1',
  P0202: 'Injector Circuit Malfunction - Cylinder 2',
  P0203: 'Injector Circuit Malfunction - Cylinder 3',
  P0204: 'Injector Circuit Malfunction - Cylinder 4',
  P0217: 'Engine Overtemperature Condition',
  P0218: 'Transmission Overtemperature Condition',
  P0219: 'Engine Overspeed Condition',
  P0230: 'Fuel Pump Primary Circuit Malfunction',
  // Ignition system or misfire
  P0300: 'Random/Multiple Cylinder Misfire Detected',
  P0325: 'Knock Sensor 1 Circuit Malfunction (Bank 1 or Single Sensor)',
  P0326: 'Knock Sensor 1 Circuit Range/Performance (Bank 1 or Single Sensor)',
  P0327: 'Knock Sensor 1 Circuit Low Input (Bank 1 or Single Sensor)',
  P0328: 'Knock Sensor 1 Circuit High Input (Bank 1 or Single Sensor)',
  P0335: 'Crankshaft Position Sensor A Circuit Malfunction',
  P0336: 'Crankshaft Position Sensor A Circuit Range/Performance',
  P0340: 'Camshaft Position Sensor Circuit Malfunction',
  P0341: 'Camshaft Position Sensor Circuit Range/Performance',
  P0351: 'Ignition Coil A Primary/Secondary Circuit Malfunction',
  P0352: 'Ignition Coil B Primary/Secondary Circuit Malfunction',
  P0353: 'Ignition Coil C Primary/Secondary Circuit Malfunction',
  P0354: 'Ignition Coil D Primary/Secondary Circuit Malfunction',
  // Auxiliary emission controls
  P0400: 'Exhaust Gas Recirculation Flow Malfunction',
  P0401: 'Exhaust Gas Recirculation Flow Insufficient Detected',
  P0402: 'Exhaust Gas Recirculation Flow Excessive Detected',
  P0403: 'Exhaust Gas Recirculation Circuit Malfunction',
  P0404: 'Exhaust Gas Recirculation Circuit Range/Performance',
  P0405: 'Exhaust Gas Recirculation Sensor A Circuit Low',
  P0406: 'Exhaust Gas Recirculation Sensor A Circuit High',
  P0410: 'Secondary Air Injection System Malfunction',
  P0411: 'Secondary Air Injection System Incorrect Flow Detected',
  P0412: 'Secondary Air Injection System Switching Valve A Circuit Malfunction',
  P0420: 'Catalyst System Efficiency Below Threshold (Bank 1)',
  P0421: 'Warm Up Catalyst Efficiency Below Threshold (Bank 1)',
  P0430: 'Catalyst System Efficiency Below Threshold (Bank 2)',
  P0431: 'Warm Up Catalyst Efficiency Below Threshold (Bank 2)',
  P0440: 'Evaporative Emission Control System Malfunction',
  P0441: 'Evaporative Emission Control System Incorrect Purge Flow',
  P0442: 'Evaporative Emission Control System Leak Detected (small leak)',
  P0443: 'Evaporative Emission Control System Purge Control Valve Circuit Malfunction',
  P0446: 'Evaporative Emission Control System Vent Control Circuit Malfunction',
  P0449: 'Evaporative Emission Control System Vent Valve/Solenoid Circuit Malfunction',
  P0450: 'Evaporative Emission Control System Pressure Sensor Malfunction',
  P0451: 'Evaporative Emission Control System Pressure Sensor Range/Performance',
  P0452: 'Evaporative Emission Control System Pressure Sensor Low Input',
  P0453: 'Evaporative Emission Control System Pressure Sensor High Input',
  P0455: 'Evaporative Emission Control System Leak Detected (gross leak)',
  P0456: 'Evaporative Emission Control System Leak Detected (very small leak)',
  P0460: 'Fuel Level Sensor Circuit Malfunction',
  P0461: 'Fuel Level Sensor Circuit Range/Performance',
  P0462: 'Fuel Level Sensor Circuit Low Input',
  P0463: 'Fuel Level Sensor Circuit High Input',
  P0464: 'Fuel Level Sensor Circuit Intermittent',
  P0470: 'Exhaust Pressure Sensor Malfunction',
  P0480: 'Cooling Fan 1 Control Circuit Malfunction',
  P0481: 'Cooling Fan 2 Control Circuit Malfunction',
  P0491: 'Secondary Air Injection System (Bank 1)',
  P0492: 'Secondary Air Injection System (Bank 2)',
  P0496: 'Evaporative Emission System High Purge Flow',
  P0497: 'Evaporative Emission System Low Purge Flow',
  // Vehicle speed, idle control and auxiliary inputs
  P0500: 'Vehicle Speed Sensor Malfunction',
  P0501: 'Vehicle Speed Sensor Range/Performance',
  P0502: 'Vehicle Speed Sensor Circuit Low Input',
  P0503: 'Vehicle Speed Sensor Intermittent/Erratic/High',
  P0505: 'Idle Control System Malfunction',
  P0506: 'Idle Control System RPM Lower Than Expected',
  P0507: 'Idle Control System RPM Higher Than Expected',
  P0510: 'Closed Throttle Position Switch Malfunction',
  P0520: 'Engine Oil Pressure Sensor/Switch Circuit Malfunction',
  P0521: 'Engine Oil Pressure Sensor/Switch Circuit Range/Performance',
  P0522: 'Engine Oil Pressure Sensor/Switch Circuit Low Voltage',
  P0523: 'Engine Oil Pressure Sensor/Switch Circuit High Voltage',
  P0530: 'A/C Refrigerant Pressure Sensor Circuit Malfunction',
  P0550: 'Power Steering Pressure Sensor Circuit Malfunction',
  P0560: 'System Voltage Malfunction',
  P0562: 'System Voltage Low',
  P0563: 'System Voltage High',
  P0565: 'Cruise Control On Signal Malfunction',
  P0571: 'Cruise Control/Brake Switch A Circuit Malfunction',
  // Computer output circuit
  P0600: 'Serial Communication Link Malfunction',
  P0601: 'Internal Control Module Memory Check Sum Error',
  P0602: 'Control Module Programming Error',
  P0603: 'Internal Control Module Keep Alive Memory (KAM) Error',
  P0604: 'Internal Control Module Random Access Memory (RAM) Error',
  P0605: 'Internal Control Module Read Only Memory (ROM) Error',
  P0606: 'Control Module Processor Fault',
  // Transmission
  P0700: 'Transmission Control System Malfunction',
  P0705: 'Transmission Range Sensor Circuit Malfunction (PRNDL Input)',
  P0715: 'Input/Turbine Speed Sensor Circuit Malfunction',
  P0720: 'Output Speed Sensor Circuit Malfunction',
  P0740: 'Torque Converter Clutch Circuit Malfunction',
  // Network
  U0001: 'High Speed CAN Communication Bus',
  U0073: 'Control Module Communication Bus Off',
  U0100: 'Lost Communication With ECM/PCM "A"',
  U0101: 'Lost Communication With TCM',
  U0121: 'Lost Communication With Anti-Lock Brake System (ABS) Control Module',
  U0140: 'Lost Communication With Body Control Module',
  U0155: 'Lost Communication With Instrument Panel Cluster (IPC) Control Module',
};

function buildTable(): ReadonlyMap<string, string> {
  const table = new Map(Object.entries(FIXED));
  for (const [first, location] of O2_BLOCKS) {
    O2_FAULTS.forEach((fault, i) => {
      const code = `P0${first + i}`;
      table.set(code, `O2 Sensor ${fault} (${location})`);
    });
  }
  for (let cylinder = 1; cylinder <= 12; cylinder++) {
    table.set(`P03${String(cylinder).padStart(2, '0')}`, `Cylinder ${cylinder} Misfire Detected`);
  }
  return table;
}

export const GENERIC_DTC_DESCRIPTIONS: ReadonlyMap<string, string> = buildTable();

export const UNKNOWN_DTC_DESCRIPTION = 'manufacturer-specific or unknown';

/** SAE J2012: is the code's meaning the same on every vehicle (core) or the manufacturer's? */
export function isGenericDtc(code: string): boolean {
  const m = /^([PCBU])([0-3])([0-9A-F])/.exec(code);
  if (!m) return false;
  if (m[2] === '0') return true;
  if (m[1] === 'P' && m[2] === '2') return true;
  return m[1] === 'P' && m[2] === '3' && Number.parseInt(m[3]!, 16) >= 4;
}

export function describeDtc(code: string): string {
  return GENERIC_DTC_DESCRIPTIONS.get(code) ?? UNKNOWN_DTC_DESCRIPTION;
}
