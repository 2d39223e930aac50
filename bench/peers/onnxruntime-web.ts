/**
 * onnxruntime-web, wasm backend, 1 thread. The only wasm binary it ships is ort-wasm-simd-threaded,
 * so SIMD is always on. Scale and B are initializers of the model (as in an exported model);
 * per call: wrap x in an ort.Tensor, session.run, read Y's data.
 * Note: a pre-allocated output in the fetches is ignored by the wasm backend, so we don't pass one.
 */
import type { PeerLoader } from './types.js';
import { prepareOrtSession } from './onnx-model.js';

export const onnxruntimeWeb: PeerLoader = async () => {
  let ort: typeof import('onnxruntime-web');
  try {
    ort = await import('onnxruntime-web');
  } catch (e) {
    return { unavailable: `onnxruntime-web not loadable: ${(e as Error).message}` };
  }
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  const version = ort.env.versions.web ?? '?';
  return {
    name: 'ort-web',
    label: `onnxruntime-web ${version} wasm, 1 thread, SIMD (LayerNormalization opset 17, Scale/B as initializers)`,
    async prepare(c) {
      return prepareOrtSession(ort, c, {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
      });
    },
  };
};
