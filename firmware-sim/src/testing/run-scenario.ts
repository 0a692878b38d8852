import type { ElmErrorAnswer } from '../elm327/faults.ts';
import type { ScenarioDefinition } from '../scenarios/format.ts';
import type { Label } from '../scenarios/labels.ts';
import { ScenarioRunner } from '../scenarios/runner.ts';
import { buildVehicle, type VehicleConfig } from '../vehicle/config.ts';
import type { DiagnosticMemory } from '../vehicle/diagnostics.ts';
import type { VehicleState } from '../vehicle/model.ts';

export const SCENARIO_START = Date.UTC(2024, 4, 1, 8);

/** One simulated second as the tests see it: the state and the adapter / GPS flags after its events. */
export interface Tick {
  state: VehicleState;
  plugged: boolean;
  fix: boolean;
}

export interface ScenarioRun {
  ticks: Tick[];
  /** Tick by GPS time (epoch ms). */
  at(ts: number): Tick;
  labels: Label[];
  injected: { answer: ElmErrorAnswer; count: number }[];
  glitches: number;
  diagnostics: DiagnosticMemory;
}

/** Run a scenario in-process, without timers, for `seconds` simulated seconds. */
export function runScenario(
  scenario: ScenarioDefinition,
  seconds: number,
  config: Partial<VehicleConfig> = {},
): ScenarioRun {
  const seed = config.seed ?? 1;
  const built = buildVehicle({ id: 'test-1', seed, startTimeMs: SCENARIO_START, ...config, scenario });
  const labels: Label[] = [];
  const injected: { answer: ElmErrorAnswer; count: number }[] = [];
  let glitches = 0;
  const runner = new ScenarioRunner({
    model: built.model,
    scenario: built.scenario,
    seed,
    vehicleId: 'test-1',
    diagnostics: built.diagnostics,
    adapter: {
      unplug() {},
      plugIn() {},
      injectAnswer: (answer, count) => injected.push({ answer, count }),
      powerGlitch: () => {
        glitches += 1;
      },
    },
    onLabel: (l) => labels.push(l),
  });
  const ticks: Tick[] = [];
  const record = () =>
    ticks.push({ state: runner.state, plugged: runner.adapterPlugged, fix: runner.gpsFix });
  runner.begin();
  record();
  for (let i = 0; i < seconds; i++) {
    runner.advance();
    record();
  }
  runner.finish();
  return {
    ticks,
    at(ts: number): Tick {
      const tick = ticks[(ts - ticks[0]!.state.simTimeMs) / 1000];
      if (!tick) throw new Error(`no tick at ${new Date(ts).toISOString()}`);
      return tick;
    },
    labels,
    injected,
    glitches,
    diagnostics: built.diagnostics,
  };
}

/** The ticks of a half-open label interval [start, end). */
export function during(run: ScenarioRun, label: { start: number; end: number | null }): Tick[] {
  const end = label.end ?? run.ticks.at(-1)!.state.simTimeMs + 1000;
  return run.ticks.filter((t) => t.state.simTimeMs >= label.start && t.state.simTimeMs < end);
}
