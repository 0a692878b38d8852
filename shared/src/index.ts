export * from './commands.ts';
export * from './csv-line.ts';
export * from './events.ts';
export * from './geo.ts';
export * from './model-artifact.ts';
export * from './telemetry.ts';
export * from './topics.ts';
export * from './vehicle-state.ts';
