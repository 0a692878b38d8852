/**
 * The demo fleet the Quick start seeds: what each vehicle is (the register's fields), how its
 * week went (a firmware-sim scenario: work hours, trips, refuels, a theft at night, a trouble
 * code, idling), and the people who run it. Fixed here so the same start gives the same fleet and
 * the same history; vehicles past the templates repeat them with other seeds.
 */
import { parseScenario, type ScenarioDefinition } from '../../../firmware-sim/src/scenarios/format.ts';
import { TankGauge, type TankShape } from '../../../firmware-sim/src/vehicle/tank.ts';

const DAY_S = 86_400;
const H_S = 3600;

export interface DemoVehicle {
  id: string;
  seed: number;
  plate: string;
  vin: string;
  make: string;
  model: string;
  year: number;
  fuelType: 'diesel' | 'petrol';
  vehicleClass: string;
  group: string;
  costCentre: string;
  monthlyFuelBudget: number;
  tankLitres: number;
  tankShape: TankShape;
  initialFuelPct: number;
  route: string;
  speedLimitKmh: number;
  scenario: ScenarioDefinition;
  /**
   * Fuel-card purchases besides one per refuel: `fraudExtraL` on the card of this vehicle's
   * n-th refuel (the card says more than went into the tank); `noRiseAtS`: a purchase with no
   * refuel at all, at this second of the history (the tank was recorded and did not rise).
   */
  cards: { fraudRefuel?: { n: number; extraL: number }; noRiseAtS?: number };
}

export interface DemoPerson {
  email: string;
  name: string;
  role: 'fleet_manager' | 'driver';
  /** Driver: the vehicle assigned to them for the whole history. */
  vehicleIndex?: number;
  /** Their sign-in is printed beside the admin's (the others can be given one from Users). */
  shown: boolean;
}

export const DEMO_GROUPS = [
  { name: 'Munich depot', kind: 'depot' as const },
  { name: 'Vans', kind: 'class' as const },
];

/** The depot's yard at Karlsplatz, on the Altstadtring route: the vans pass through it. */
export const DEMO_GEOFENCE = {
  name: 'Karlsplatz yard',
  polygon: [
    { lat: 48.1382, lon: 11.5645 },
    { lat: 48.1382, lon: 11.5675 },
    { lat: 48.1398, lon: 11.5675 },
    { lat: 48.1398, lon: 11.5645 },
  ],
};

export const DEMO_PEOPLE: readonly DemoPerson[] = [
  { email: 'manager@fleet.local', name: 'Maria Huber', role: 'fleet_manager', shown: true },
  { email: 'driver@fleet.local', name: 'Jonas Weber', role: 'driver', vehicleIndex: 0, shown: true },
  { email: 'lena.schmidt@fleet.local', name: 'Lena Schmidt', role: 'driver', vehicleIndex: 1, shown: false },
  { email: 'tobias.maier@fleet.local', name: 'Tobias Maier', role: 'driver', vehicleIndex: 2, shown: false },
];

/** A working week of a delivery van in Munich: shifts 06:00-15:00 UTC, refuels below 20 %. */
const vanWeek = (name: string, events: ScenarioDefinition['events']): ScenarioDefinition =>
  parseScenario({
    name,
    schedule: {
      tripS: ['20m', '40m'],
      parkS: ['15m', '45m'],
      workHoursUtc: [6, 15],
      refuelBelowPct: 20,
      refuelToPct: [85, 98],
    },
    events: [
      // Waiting at the kerb with the engine running: long idles.
      { type: 'idle', at: ['31h', '33h'], every: ['24h', '26h'], durationS: ['7m', '15m'] },
      ...events,
    ],
  });

const TEMPLATES: readonly Omit<DemoVehicle, 'id' | 'seed'>[] = [
  {
    plate: 'M-FL 1001',
    vin: 'WDB9066331S123401',
    make: 'Mercedes-Benz',
    model: 'Sprinter 316 CDI',
    year: 2021,
    fuelType: 'diesel',
    vehicleClass: 'van',
    group: 'Munich depot',
    costCentre: 'DEL-100',
    monthlyFuelBudget: 900,
    tankLitres: 75,
    tankShape: { kind: 'linear' },
    initialFuelPct: 55,
    route: 'munich-altstadtring',
    speedLimitKmh: 50,
    scenario: vanWeek('demo-van-theft', [
      // Siphoned at night in the street: found at the next morning's first fuel reading.
      { type: 'fuel_theft', at: 3 * DAY_S + 1.5 * H_S, times: 1, volumeL: 28, durationS: '9m' },
    ]),
    cards: {},
  },
  {
    plate: 'M-FL 1002',
    vin: 'WV1ZZZSYZL9012302',
    make: 'Volkswagen',
    model: 'Crafter 35 TDI',
    year: 2020,
    fuelType: 'diesel',
    vehicleClass: 'van',
    group: 'Munich depot',
    costCentre: 'DEL-100',
    monthlyFuelBudget: 950,
    tankLitres: 80,
    // A lying cylinder: the sender's % is not the volume's %, so the register holds its table.
    tankShape: { kind: 'cylinder' },
    initialFuelPct: 45,
    route: 'munich-altstadtring',
    speedLimitKmh: 50,
    scenario: vanWeek('demo-van-dtc', [
      { type: 'dtc', at: 4 * DAY_S + 8 * H_S, code: 'P0171', pendingS: '40m', times: 1 },
    ]),
    cards: { fraudRefuel: { n: 1, extraL: 30 } },
  },
  {
    plate: 'M-FL 1003',
    vin: 'TMBJJ7NE5L0123403',
    make: 'Skoda',
    model: 'Octavia Combi 2.0 TDI',
    year: 2022,
    fuelType: 'diesel',
    vehicleClass: 'car',
    group: 'Munich depot',
    costCentre: 'SAL-200',
    monthlyFuelBudget: 400,
    tankLitres: 50,
    tankShape: { kind: 'linear' },
    initialFuelPct: 40,
    route: 'munich-motorway-ring',
    speedLimitKmh: 120,
    scenario: parseScenario({
      name: 'demo-sales-car',
      schedule: {
        tripS: ['30m', '60m'],
        parkS: ['30m', '90m'],
        workHoursUtc: [8, 14],
        refuelBelowPct: 20,
        refuelToPct: [90, 100],
      },
      events: [
        {
          type: 'speeding',
          at: ['32h', '34h'],
          every: ['24h', '28h'],
          overKmh: [20, 35],
          durationS: ['1m', '3m'],
        },
        { type: 'fuel_theft', at: 5 * DAY_S + 23 * H_S, times: 1, volumeL: 18, durationS: '6m' },
      ],
    }),
    // A card used on a Saturday the car stood still: nothing went into its tank.
    cards: { noRiseAtS: 2 * DAY_S + 11 * H_S },
  },
];

/** Vehicle i (0-based) of the demo fleet: veh-001, veh-002, ... */
export function demoVehicle(i: number): DemoVehicle {
  const t = TEMPLATES[i % TEMPLATES.length]!;
  const round = Math.floor(i / TEMPLATES.length);
  const n = String(i + 1).padStart(3, '0');
  return {
    ...t,
    id: `veh-${n}`,
    seed: i + 1,
    plate: round === 0 ? t.plate : `M-FL ${1000 + i + 1}`,
    vin: round === 0 ? t.vin : `${t.vin.slice(0, 14)}${n}`,
  };
}

/**
 * The vehicle's tank calibration table as a fitter would enter it in the register (sender % ->
 * litres): two points for a box tank, every 5 % of the sender's travel for a shaped one.
 */
export function demoCalibration(
  v: Pick<DemoVehicle, 'tankLitres' | 'tankShape'>,
): { pct: number; litres: number }[] {
  if (v.tankShape.kind === 'linear')
    return [
      { pct: 0, litres: 0 },
      { pct: 100, litres: v.tankLitres },
    ];
  return new TankGauge(v.tankLitres, v.tankShape)
    .calibrationTable(5)
    .map(([pct, litres]) => ({ pct, litres }));
}
