import { ID_PATTERN } from '@fleet/shared';
import { type Command, InvalidArgumentError } from 'commander';
import { ADAPTER_PROFILES, type AdapterProfileName } from '../elm327/adapter-profiles.ts';
import { ADAPTER_KINDS, type AdapterKind } from '../elm327/emulator.ts';
import { ELM_ERROR_ANSWERS, type ElmErrorAnswer } from '../elm327/faults.ts';
import { MODE01_PIDS } from '../elm327/pids.ts';
import { VEHICLE_PROTOCOLS, type VehicleProtocol } from '../elm327/protocols.ts';
import { isSimError } from '../errors.ts';
import {
  NMEA_SENTENCE_TYPES,
  type NmeaSentenceType,
  parseSentenceList,
  type Talker,
} from '../nmea/generator.ts';
import { builtinScenarioNames } from '../scenarios/builtin.ts';
import { loadScenario, type ScenarioDefinition } from '../scenarios/index.ts';
import { normaliseDtc } from '../vehicle/diagnostics.ts';
import { SENDER_MODELS, type SenderModelName } from '../vehicle/fuel-sender.ts';
import { SPEED_PROFILES, type SpeedProfile } from '../vehicle/model.ts';
import { routeNames } from '../vehicle/route.ts';
import { TANK_SHAPES, type TankShape, tankShapeByName } from '../vehicle/tank.ts';

/** Commander argument parsers: each throws InvalidArgumentError (exit 2) with the accepted form. */

export function integerIn(min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer in [${min}...${max}]`);
    }
    return n;
  };
}

export function numberIn(min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a number in [${min}...${max}]`);
    }
    return n;
  };
}

export function isoTime(text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new InvalidArgumentError('expected an ISO 8601 time, e.g. 2024-05-01T08:00:00Z');
  return ms;
}

export function vehicleId(text: string): string {
  if (!ID_PATTERN.test(text))
    throw new InvalidArgumentError(`expected ${ID_PATTERN.source} (it ends up in MQTT topics)`);
  return text;
}

function oneOf<T extends string>(values: readonly T[]) {
  return (text: string): T => {
    if (!(values as readonly string[]).includes(text)) {
      throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    }
    return text as T;
  };
}

export const protocolOption = oneOf<VehicleProtocol>(VEHICLE_PROTOCOLS);
export const adapterOption = oneOf<AdapterKind>(ADAPTER_KINDS);
export const adapterProfileOption = oneOf<AdapterProfileName>(ADAPTER_PROFILES);
export const speedProfileOption = oneOf<SpeedProfile>(SPEED_PROFILES);
export const senderOption = oneOf<SenderModelName>(SENDER_MODELS);
export const talkerOption = oneOf<Talker>(['GP', 'GN']);

export function tankShapeOption(text: string): TankShape {
  try {
    return tankShapeByName(text);
  } catch {
    throw new InvalidArgumentError(
      `expected one of ${TANK_SHAPES.join(', ')} (a calibration table goes in a scenario file)`,
    );
  }
}

/** "P0133,P0420" -> ["P0133", "P0420"]. */
export function dtcList(text: string): string[] {
  try {
    return text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(normaliseDtc);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** "0C,0D,2F" (hex service 01 PIDs) -> [0x0c, 0x0d, 0x2f]; only PIDs the ECU implements. */
export function pidList(text: string): number[] {
  const pids = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      if (!/^(0x)?[0-9a-f]{1,2}$/i.test(s)) throw new InvalidArgumentError(`"${s}" is not a hex PID like 0D`);
      return Number.parseInt(s.replace(/^0x/i, ''), 16);
    });
  const unknown = pids.filter((p) => !MODE01_PIDS.has(p));
  if (unknown.length > 0) {
    const known = [...MODE01_PIDS.keys()].map((p) => p.toString(16).toUpperCase().padStart(2, '0'));
    throw new InvalidArgumentError(
      `not implemented: ${unknown.map((p) => p.toString(16).toUpperCase()).join(', ')} (known: ${known.join(', ')})`,
    );
  }
  return pids;
}

export function sentenceList(text: string): NmeaSentenceType[] {
  try {
    return parseSentenceList(text);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** "NO DATA=0.01,CAN ERROR=0.002" -> rates per answer. */
export function faultRates(text: string): Partial<Record<ElmErrorAnswer, number>> {
  const rates: Partial<Record<ElmErrorAnswer, number>> = {};
  let sum = 0;
  for (const part of text.split(',').filter((p) => p.trim() !== '')) {
    const eq = part.lastIndexOf('=');
    const answer = part.slice(0, eq).trim();
    const p = Number(part.slice(eq + 1));
    if (eq < 0 || !(ELM_ERROR_ANSWERS as readonly string[]).includes(answer) || !(p >= 0 && p <= 1)) {
      throw new InvalidArgumentError(
        `expected ANSWER=PROBABILITY,... with ANSWER one of ${ELM_ERROR_ANSWERS.map((a) => `"${a}"`).join(', ')}`,
      );
    }
    rates[answer as ElmErrorAnswer] = p;
    sum += p;
  }
  if (sum > 1) throw new InvalidArgumentError(`probabilities add up to ${sum} > 1`);
  return rates;
}

/** A built-in scenario name or a JSON file; validated now so a bad file exits 2 at once. */
export function scenarioOption(text: string): ScenarioDefinition {
  try {
    return loadScenario(text);
  } catch (err) {
    if (isSimError(err)) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

/** The options a vehicle takes wherever it runs (vehicle, fleet, log). */
export interface VehicleModelCliOptions {
  seed?: number;
  startTime?: number;
  tankLitres?: number;
  tankShape?: TankShape;
  initialFuelPct?: number;
  speedProfile?: SpeedProfile;
  sender?: SenderModelName;
  route?: string;
  scenario?: ScenarioDefinition;
  dtc?: string[];
  pids?: number[];
  protocol?: VehicleProtocol;
  adapter?: AdapterKind;
}

/** What a running vehicle (vehicle, fleet) adds to the model: its adapter and GPS output. */
export interface VehicleDeviceCliOptions extends VehicleModelCliOptions {
  adapterProfile?: AdapterProfileName;
  latencyMs?: number;
  baud?: number;
  talker?: Talker;
  sentences?: NmeaSentenceType[];
  faults?: Partial<Record<ElmErrorAnswer, number>>;
}

/** The options both `vehicle` and `fleet` hand to a SimVehicle, only those the user set. */
export function vehicleSettingsFromCli(opts: VehicleDeviceCliOptions) {
  return {
    ...(opts.scenario ? { scenario: opts.scenario } : {}),
    ...(opts.tankLitres !== undefined ? { tankLitres: opts.tankLitres } : {}),
    ...(opts.tankShape ? { tankShape: opts.tankShape } : {}),
    ...(opts.initialFuelPct !== undefined ? { initialFuelPct: opts.initialFuelPct } : {}),
    ...(opts.speedProfile ? { speedProfile: opts.speedProfile } : {}),
    ...(opts.sender ? { sender: opts.sender } : {}),
    ...(opts.dtc ? { dtcs: opts.dtc } : {}),
    ...(opts.pids ? { pids: opts.pids } : {}),
    ...(opts.protocol ? { protocol: opts.protocol } : {}),
    ...(opts.adapter ? { adapter: opts.adapter } : {}),
    ...(opts.adapterProfile ? { adapterProfile: opts.adapterProfile } : {}),
    ...(opts.latencyMs !== undefined ? { latencyMs: opts.latencyMs } : {}),
    ...(opts.baud !== undefined ? { baudRate: opts.baud } : {}),
    ...(opts.talker ? { talker: opts.talker } : {}),
    ...(opts.sentences ? { sentences: opts.sentences } : {}),
    ...(opts.faults ? { faults: opts.faults } : {}),
  };
}

export function addVehicleModelOptions(cmd: Command): Command {
  return cmd
    .option(
      '--scenario <name|file>',
      `scenario with ground-truth labels: a built-in (${builtinScenarioNames().join(', ')}) or a JSON file`,
      scenarioOption,
    )
    .option('--route <name>', `built-in route (default: chosen by seed): ${routeNames().join(', ')}`)
    .option(
      '--tank-litres <n>',
      "fuel tank capacity in litres (default: 60, or the scenario's)",
      numberIn(1, 2000),
    )
    .option(
      '--tank-shape <shape>',
      `tank sender calibration: ${TANK_SHAPES.join(', ')} (default: linear)`,
      tankShapeOption,
    )
    .option(
      '--initial-fuel-pct <n>',
      'fuel at the start, % of the tank (default: from the seed)',
      numberIn(0, 100),
    )
    .option(
      '--speed-profile <p>',
      `driving style: ${SPEED_PROFILES.join(', ')} (default: normal)`,
      speedProfileOption,
    )
    .option(
      '--sender <model>',
      `fuel sender behind PID 2F: ideal, or real (tilt, slosh, settling, hysteresis, thermal; see README) (default: ideal)`,
      senderOption,
    )
    .option('--dtc <codes>', 'stored trouble codes from the start, MIL on, e.g. P0133,P0420', dtcList)
    .option(
      '--pids <hex,...>',
      'service 01 PIDs the ECU supports, e.g. 0C,0D,2F (default: all implemented)',
      pidList,
    )
    .option('--protocol <p>', `OBD protocol: ${VEHICLE_PROTOCOLS.join(', ')} (default: can)`, protocolOption)
    .option(
      '--adapter <a>',
      `adapter identity and speed: ${ADAPTER_KINDS.join(', ')} (default: elm327)`,
      adapterOption,
    );
}

/** Only where an ELM327 answers (vehicle, fleet), not for `log`. */
export function addAdapterProfileOption(cmd: Command): Command {
  return cmd.option(
    '--adapter-profile <p>',
    `how the adapter takes multi-PID requests and the reply-count digit: ${ADAPTER_PROFILES.join(', ')} (default: standard, both taken)`,
    adapterProfileOption,
  );
}

export const NMEA_HELP = `NMEA sentences per epoch (--sentences): ${NMEA_SENTENCE_TYPES.join(', ')} or all; default RMC,GGA`;
