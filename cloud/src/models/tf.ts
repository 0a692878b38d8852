/**
 * TensorFlow.js on the wasm backend the vehicles run too (shared/src/tf-wasm.ts), so the
 * threshold computed here holds there. Loaded only by `fleet-cloud model train`.
 */
import { tfWasmLoader } from '@fleet/shared/tf-wasm';

export const loadTf = tfWasmLoader<typeof import('@tensorflow/tfjs')>(import.meta.url);
