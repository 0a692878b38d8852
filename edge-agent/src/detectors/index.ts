/** The detectors' public face: what the agent, `fleet-agent replay`, the models and the bench use. */
export type { DetectedEvent, Detector, DetectorConfig, ResolvedDetectorConfig } from './detector.ts';
export { resolveConfig } from './detector.ts';
export type { DetectorPipeline, PipelineOptions } from './pipeline.ts';
export { createDetectorPipeline, runDetectors } from './pipeline.ts';
export { ModeTracker, type VehicleMode } from './vehicle-mode.ts';
