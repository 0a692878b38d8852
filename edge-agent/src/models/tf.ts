/** TensorFlow.js on the wasm backend (shared/src/tf-wasm.ts); `fleet-agent model status` never loads it. */
import { tfWasmLoader } from '@fleet/shared/tf-wasm';

export type Tf = typeof import('@tensorflow/tfjs');

export const loadTf = tfWasmLoader<Tf>(import.meta.url);
