import type { ScenarioDefinition } from './format.ts';

/**
 * Built-in scenarios, by name (`--scenario NAME`). Each is a scenario file in code: the same
 * format as a JSON file (see format.ts), so any of them is a starting point for a custom one
 * (`firmware-sim scenarios --show NAME` prints it). Times are from the start of the run; most
 * repeat (`every`), so a run of any length gets its share of events.
 */
export const BUILTIN_SCENARIOS: readonly ScenarioDefinition[] = [
  {
    name: 'none',
    description: 'Continuous city driving, no events (the default; an empty tank is rescued after 30 min)',
    events: [],
  },
  {
    name: 'workday',
    description:
      'Delivery van: trips of 15-45 min, parked 5-30 min in between (ignition off), off shift 19:00-07:00 UTC, refuels below 15 %',
    schedule: {
      tripS: ['15m', '45m'],
      parkS: ['5m', '30m'],
      workHoursUtc: [7, 19],
      refuelBelowPct: 15,
      refuelToPct: [85, 100],
    },
    events: [],
  },
  {
    name: 'fuel-theft',
    description:
      '80 L tank; parks after 20-30 min and 10-30 L are siphoned over 5-15 min, ignition off; again every 4-6 h; ' +
      'trips of 30-60 min, refuels below 35 %',
    vehicle: { tankLitres: 80, initialFuelPct: [60, 90] },
    schedule: { tripS: ['30m', '60m'], parkS: ['5m', '20m'], refuelBelowPct: 35 },
    events: [
      {
        type: 'fuel_theft',
        at: ['20m', '30m'],
        every: ['4h', '6h'],
        volumeL: [10, 30],
        durationS: ['5m', '15m'],
      },
    ],
  },
  {
    name: 'slow-leak',
    description:
      'A leak of 0.2-1 L/h for 2-6 h from minute 10-20, over driving and parking; again every 8-12 h',
    vehicle: { initialFuelPct: [70, 95] },
    schedule: { tripS: ['20m', '40m'], parkS: ['10m', '30m'], refuelBelowPct: 15 },
    events: [
      { type: 'leak', at: ['10m', '20m'], every: ['8h', '12h'], rateLph: [0.2, 1], durationS: ['2h', '6h'] },
    ],
  },
  {
    name: 'refuel',
    description: 'Starts low (15-30 %); parks at a station after 15-25 min and takes 20-40 L, every 3-5 h',
    vehicle: { initialFuelPct: [15, 30] },
    events: [{ type: 'refuel', at: ['15m', '25m'], every: ['3h', '5h'], volumeL: [20, 40] }],
  },
  {
    name: 'harsh-driving',
    description: 'Emergency stops at 0.4-0.7 g and hard launches at 0.32-0.45 g, every 6-13 min',
    events: [
      { type: 'harsh_brake', at: ['5m', '8m'], every: ['6m', '12m'], g: [0.4, 0.7] },
      { type: 'harsh_accel', at: ['8m', '10m'], every: ['7m', '13m'], g: [0.32, 0.45], durationS: [3, 5] },
    ],
  },
  {
    name: 'speeding',
    description: 'Motorway ring (120 km/h): 20-40 km/h over the limit for 2-5 min, every 15-25 min',
    vehicle: { route: 'munich-motorway-ring' },
    events: [
      { type: 'speeding', at: '5m', every: ['15m', '25m'], overKmh: [20, 40], durationS: ['2m', '5m'] },
    ],
  },
  {
    name: 'long-idle',
    description: 'Idles at the kerb, engine running, 6-20 min, every 40-70 min',
    events: [{ type: 'idle', at: '10m', every: ['40m', '70m'], durationS: ['6m', '20m'] }],
  },
  {
    name: 'dtc',
    description: 'P0133 pending at minute 10, stored with the MIL on 5 min later; P0420 stored at minute 40',
    events: [
      { type: 'dtc', at: '10m', code: 'P0133', pendingS: '5m' },
      { type: 'dtc', at: '40m', code: 'P0420' },
    ],
  },
  {
    name: 'unplug',
    description: 'The adapter is pulled out for 2-10 min from minute 5, and every 30-60 min after',
    events: [{ type: 'unplug', at: '5m', every: ['30m', '60m'], durationS: ['2m', '10m'] }],
  },
  {
    name: 'ignition-off',
    description: 'Parks with the ignition off for 10-40 min from minute 10, and every 40-90 min after',
    events: [{ type: 'park', at: '10m', every: ['40m', '90m'], durationS: ['10m', '40m'] }],
  },
  {
    name: 'gps-loss',
    description: 'GPS fix lost (tunnel, car park) for 30 s - 5 min from minute 3, every 15-30 min',
    events: [{ type: 'gps_loss', at: '3m', every: ['15m', '30m'], durationS: [30, '5m'] }],
  },
  {
    name: 'adapter-errors',
    description:
      'Every ELM327 error answer in turn (one a minute from minute 2), then a power glitch; the round repeats every 20 min',
    events: [
      ...(
        [
          'NO DATA',
          '?',
          'CAN ERROR',
          'BUS INIT: ...ERROR',
          'UNABLE TO CONNECT',
          'STOPPED',
          'BUFFER FULL',
          '<DATA ERROR',
          '<RX ERROR',
          'FB ERROR',
          'SEARCHING...',
        ] as const
      ).map((answer, i) => ({
        type: 'obd_error' as const,
        at: 120 + 60 * i,
        every: '20m',
        answer,
        count: 1,
      })),
      { type: 'power_glitch', at: '14m', every: '20m' },
    ],
  },
  {
    name: 'empty-tank',
    description:
      'Starts with 0.6 L: the engine dies within ~10 min, the van rolls to a stop; 10 L arrive 20 min later',
    vehicle: { tankLitres: 60, initialFuelPct: 1 },
    emptyTank: { action: 'rescue', afterS: '20m', litres: 10 },
    events: [],
  },
  {
    name: 'mixed',
    description:
      'A fleet day for detector benchmarks (80 L tank): shifts 06:00-20:00 UTC with trips and parks, refuels below 25 %, ' +
      'a theft every 9-15 h, a leak every 20-30 h, harsh events, speeding bursts, long idles, a DTC, an unplug, fix losses',
    vehicle: { tankLitres: 80, initialFuelPct: [40, 90] },
    schedule: {
      tripS: ['20m', '60m'],
      parkS: ['5m', '40m'],
      workHoursUtc: [6, 20],
      refuelBelowPct: 25,
      refuelToPct: [80, 100],
    },
    events: [
      {
        type: 'fuel_theft',
        at: ['2h', '9h'],
        every: ['9h', '15h'],
        volumeL: [10, 45],
        durationS: ['3m', '20m'],
      },
      { type: 'leak', at: ['3h', '20h'], every: ['20h', '30h'], rateLph: [0.2, 1], durationS: ['2h', '8h'] },
      { type: 'harsh_brake', at: ['20m', '60m'], every: ['40m', '2h'], g: [0.38, 0.7] },
      { type: 'harsh_accel', at: ['30m', '90m'], every: ['50m', '2h'], g: [0.31, 0.45] },
      { type: 'speeding', at: ['1h', '2h'], every: ['1h', '3h'], overKmh: [15, 30], durationS: ['1m', '3m'] },
      { type: 'idle', at: ['1h', '4h'], every: ['3h', '6h'], durationS: ['6m', '25m'] },
      { type: 'dtc', at: ['4h', '30h'], code: 'P0171', pendingS: ['10m', '1h'], times: 1 },
      { type: 'unplug', at: ['5h', '20h'], every: ['12h', '24h'], durationS: ['5m', '45m'] },
      { type: 'gps_loss', at: ['30m', '2h'], every: ['2h', '5h'], durationS: [20, '4m'] },
    ],
  },
];

export function builtinScenarioNames(): string[] {
  return BUILTIN_SCENARIOS.map((s) => s.name);
}
