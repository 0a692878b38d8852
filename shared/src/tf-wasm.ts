/**
 * TensorFlow.js on the wasm backend, loaded once per process and only when a model is needed
 * (importing tfjs costs about 2 s of CPU on a Pi). The cloud trains and the vehicle scores on
 * the same backend, so a threshold computed in the cloud holds on the vehicle.
 *
 * The .wasm binaries ship inside @tensorflow/tfjs-backend-wasm: nothing is fetched from a
 * network. (@tensorflow/tfjs-node would be faster, but its install downloads libtensorflow,
 * which a vehicle and these build machines cannot do.)
 *
 * Node only. This package does not depend on tfjs: the package that calls the loader does, and
 * names itself by its `import.meta.url`, from where both modules are resolved.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** All the loader uses of tfjs; the caller's type argument is the real module type. */
interface TfBackends {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
}

/**
 * A function that loads tfjs on its first call and gives the same module to every later one; a
 * failed load is tried again by the next call. `from`: the caller's `import.meta.url`.
 */
export function tfWasmLoader<Tf extends TfBackends>(from: string): () => Promise<Tf> {
  const require = createRequire(from);
  const importResolved = (name: string): Promise<unknown> =>
    import(pathToFileURL(require.resolve(name)).href);
  let loading: Promise<Tf> | null = null;
  const load = async () => {
    const tf = (await importResolved('@tensorflow/tfjs')) as Tf;
    const wasm = (await importResolved('@tensorflow/tfjs-backend-wasm')) as {
      setWasmPaths(prefix: string): void;
    };
    const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
    wasm.setWasmPaths(`${path.join(path.dirname(pkg), 'dist')}${path.sep}`);
    if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend did not initialise');
    await tf.ready();
    return tf;
  };
  return () => {
    loading ??= load().catch((err: unknown) => {
      loading = null; // the next model may try again
      throw err;
    });
    return loading;
  };
}
