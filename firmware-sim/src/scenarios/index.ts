import { existsSync, readFileSync } from 'node:fs';
import { SimError, SimErrorCode } from '../errors.ts';
import { Random } from '../vehicle/random.ts';
import { BUILTIN_SCENARIOS, builtinScenarioNames } from './builtin.ts';
import { parseDuration, parseScenario, type ScenarioDefinition } from './format.ts';

export { BUILTIN_SCENARIOS, builtinScenarioNames } from './builtin.ts';
export type { ScenarioDefinition, Thresholds } from './format.ts';
export { DEFAULT_THRESHOLDS, parseScenario } from './format.ts';
export type { Label, LabelsMeta, LabelType } from './labels.ts';
export { LabelsFile } from './labels.ts';
export type { AdapterControl, GpsControl } from './runner.ts';
export { ScenarioRunner } from './runner.ts';

/** A built-in scenario by name, or a scenario JSON file by path (a name wins over a same-named file). */
export function loadScenario(nameOrPath: string): ScenarioDefinition {
  const builtin = BUILTIN_SCENARIOS.find((s) => s.name === nameOrPath);
  if (builtin) return parseScenario(structuredClone(builtin));
  if (!existsSync(nameOrPath)) {
    throw new SimError(
      SimErrorCode.UnknownScenario,
      `unknown scenario "${nameOrPath}": neither a built-in (${builtinScenarioNames().join(', ')}) nor a file`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(nameOrPath, 'utf8'));
  } catch (cause) {
    throw new SimError(SimErrorCode.InvalidScenario, `${nameOrPath}: ${(cause as Error).message}`, { cause });
  }
  try {
    return parseScenario(raw);
  } catch (err) {
    if (err instanceof SimError) {
      throw new SimError(err.code, `${nameOrPath}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** The scenario's initial fuel %, drawn from its range for this seed (undefined: the model's own draw). */
export function initialFuelPctFor(scenario: ScenarioDefinition, seed: number): number | undefined {
  const spec = scenario.vehicle?.initialFuelPct;
  if (spec === undefined) return undefined;
  if (!Array.isArray(spec)) return parseDuration(spec as number | string, 'vehicle.initialFuelPct');
  const [lo, hi] = spec as readonly [number | string, number | string];
  return Random.fork(seed, `scenario:${scenario.name}:vehicle`).range(parseDuration(lo), parseDuration(hi));
}
