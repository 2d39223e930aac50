/**
 * TensorFlow.js (tfjs-core + tfjs-backend-wasm, SIMD build, 1 thread: Node has no threaded build).
 * LayerNorm the way tfjs users write it: moments over the last axis, then broadcasting ops.
 * Note: tf.batchNorm with the [N,1] mean/variance from tf.moments broadcasts wrongly on the wasm
 * backend for N > 1, so the formula is spelled out with sub/mul/rsqrt/add.
 * gamma/beta are tensors created once (like layer weights); per call: tf.tensor2d(x), compute,
 * dataSync() read back, dispose everything (tf.tidy + the returned tensor).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PeerLoader } from './types.js';

export const tfjsWasm: PeerLoader = async () => {
  let tf: typeof import('@tensorflow/tfjs-core');
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    tf = await import('@tensorflow/tfjs-core');
    wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Load the .wasm files from node_modules (a file path prefix, no network).
    const dist = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
    wasm.setWasmPaths(dist + path.sep);
    if (!(await tf.setBackend('wasm'))) return { unavailable: 'tfjs wasm backend failed to initialise' };
    await tf.ready();
  } catch (e) {
    return { unavailable: `tfjs-backend-wasm not loadable: ${(e as Error).message.split('\n')[0]}` };
  }
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return {
    name: 'tfjs-wasm',
    label: `tfjs-core ${tf.version_core} + tfjs-backend-wasm ${wasm.version_wasm}, ${simd ? 'SIMD' : 'no SIMD'}, ${wasm.getThreadsCount()} thread (moments + broadcasting ops)`,
    async prepare(c) {
      const gamma = tf.tensor1d(c.weight);
      const beta = tf.tensor1d(c.bias);
      return {
        run() {
          const y = tf.tidy(() => {
            const x = tf.tensor2d(c.x, [c.rows, c.cols]);
            const { mean, variance } = tf.moments(x, -1, true);
            // x.sub(mean).mul(rsqrt(variance + eps)).mul(gamma).add(beta), in the functional API
            // (the chained methods are not registered by tfjs-core alone)
            return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, c.eps))), gamma), beta);
          });
          const out = y.dataSync() as Float32Array;
          y.dispose();
          return out;
        },
        dispose() { gamma.dispose(); beta.dispose(); },
      };
    },
  };
};
