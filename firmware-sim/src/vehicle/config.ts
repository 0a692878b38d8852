import type { AdapterKind } from '../elm327/emulator.ts';
import type { VehicleProtocol } from '../elm327/protocols.ts';
import { BUILTIN_SCENARIOS } from '../scenarios/builtin.ts';
import { parseScenario, type ScenarioDefinition, type Thresholds } from '../scenarios/format.ts';
import { initialFuelPctFor } from '../scenarios/index.ts';
import type { LabelsMeta } from '../scenarios/labels.ts';
import type { BatteryParams } from './battery.ts';
import { DiagnosticMemory } from './diagnostics.ts';
import type { RealSenderParams, SenderModelName } from './fuel-sender.ts';
import { type SpeedProfile, VehicleModel } from './model.ts';
import { type MonitorParams, OnBoardMonitors } from './monitors.ts';
import { type Route, routeByName } from './route.ts';
import type { TankShape } from './tank.ts';

/**
 * Everything that makes one simulated vehicle, from the command line and the scenario file.
 * An option given here wins over the scenario's `vehicle` section; the scenario's wins over
 * the defaults.
 */
export interface VehicleConfig {
  id: string;
  seed: number;
  /** Epoch ms of the first state; rounded down to a whole second. */
  startTimeMs: number;
  /** Default: the built-in "none" (continuous driving). */
  scenario?: ScenarioDefinition;
  route?: Route | string;
  tankLitres?: number;
  tankShape?: TankShape;
  initialFuelPct?: number;
  speedProfile?: SpeedProfile;
  /** Fuel sender model behind PID 2F: ideal (the default) or real (fuel-sender.ts). */
  sender?: SenderModelName;
  /** The real sender's parameters, over its tuned defaults. */
  senderParams?: Partial<RealSenderParams>;
  protocol?: VehicleProtocol;
  adapter?: AdapterKind;
  /** Stored at start (MIL on), on top of the scenario's. */
  dtcs?: readonly string[];
  /** An ageing battery with a cranking dip (battery.ts), over the scenario's. */
  battery?: Partial<BatteryParams>;
  /** Service 06 results, e.g. a misfiring cylinder (monitors.ts), over the scenario's. */
  monitors?: Partial<MonitorParams>;
}

export interface BuiltVehicle {
  scenario: ScenarioDefinition;
  model: VehicleModel;
  diagnostics: DiagnosticMemory;
  monitors: OnBoardMonitors;
  protocol: VehicleProtocol;
  adapter: AdapterKind;
}

export function noScenario(): ScenarioDefinition {
  return parseScenario(structuredClone(BUILTIN_SCENARIOS.find((s) => s.name === 'none')!));
}

export function buildVehicle(config: VehicleConfig): BuiltVehicle {
  const scenario = config.scenario ?? noScenario();
  const sv = scenario.vehicle ?? {};
  const routeSpec = config.route ?? sv.route;
  const route = typeof routeSpec === 'string' ? routeByName(routeSpec) : routeSpec;
  const tankLitres = config.tankLitres ?? sv.tankLitres;
  const tankShape = config.tankShape ?? sv.tankShape;
  const initialFuelPct = config.initialFuelPct ?? initialFuelPctFor(scenario, config.seed);
  const speedProfile = config.speedProfile ?? sv.speedProfile;
  const sender = config.sender ?? sv.sender;
  const model = new VehicleModel({
    seed: config.seed,
    startTimeMs: config.startTimeMs,
    ...(route ? { route } : {}),
    ...(tankLitres !== undefined ? { tankLitres } : {}),
    ...(tankShape ? { tankShape } : {}),
    ...(initialFuelPct !== undefined ? { initialFuelPct } : {}),
    ...(speedProfile ? { speedProfile } : {}),
    ...(sender ? { sender } : {}),
    ...(config.senderParams ? { senderParams: config.senderParams } : {}),
    ...(sv.battery || config.battery ? { battery: { ...sv.battery, ...config.battery } } : {}),
  });
  const diagnostics = new DiagnosticMemory([...(sv.dtcs ?? []), ...(config.dtcs ?? [])]);
  return {
    scenario,
    model,
    diagnostics,
    monitors: new OnBoardMonitors({ ...sv.monitors, ...config.monitors }),
    protocol: config.protocol ?? sv.protocol ?? 'can',
    adapter: config.adapter ?? sv.adapter ?? 'elm327',
  };
}

/** The first line of a labels file for this vehicle. */
export function labelsMeta(
  config: Pick<VehicleConfig, 'id' | 'seed'>,
  built: BuiltVehicle,
  thresholds: Thresholds,
): LabelsMeta {
  const { model } = built;
  const first = model.state();
  return {
    type: 'meta',
    vehicleId: config.id,
    scenario: built.scenario.name,
    seed: config.seed,
    startTs: first.simTimeMs,
    route: model.route.name,
    speedLimitKmh: model.route.definition.speedLimitKmh,
    tankLitres: model.tankLitres,
    tankShape: model.tank.shapeName,
    sender: model.sender.model,
    calibration: model.tank.calibrationTable(5),
    thresholds,
    protocol: built.protocol,
    adapter: built.adapter,
  };
}
