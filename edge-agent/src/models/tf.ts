/**
 * TensorFlow.js on the wasm backend, loaded once per process and only when a model is needed
 * (importing tfjs costs about 2 s of CPU on a Pi; `fleet-agent model status` never pays it).
 * The .wasm binaries ship inside @tensorflow/tfjs-backend-wasm: nothing is fetched from a network.
 * (@tensorflow/tfjs-node would be faster but its install downloads libtensorflow, which a vehicle
 * and these build machines cannot do.)
 */
import { createRequire } from 'node:module';
import path from 'node:path';

export type Tf = typeof import('@tensorflow/tfjs');

let loading: Promise<Tf> | null = null;

export function loadTf(): Promise<Tf> {
  loading ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
    const pkg = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
    setWasmPaths(`${path.join(path.dirname(pkg), 'dist')}${path.sep}`);
    if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend did not initialise');
    await tf.ready();
    return tf;
  })().catch((err: unknown) => {
    loading = null; // the next model may try again
    throw err;
  });
  return loading;
}
