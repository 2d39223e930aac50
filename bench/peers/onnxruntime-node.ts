/**
 * onnxruntime-node, native CPU execution provider. Same one-node model as the web peer
 * (Scale/B as initializers); per call: wrap x in an ort.Tensor, session.run, read Y's data.
 * Its install script only fetches CUDA libraries from outside the npm registry; package.json's
 * allowScripts denies it (npm 11), and the CPU runtime ships inside the npm package.
 */
import type { PeerLoader } from './types.js';
import { prepareOrtSession } from './onnx-model.js';

/** Loader for a session with `threads` intra-op threads (1 for the main comparison). */
export function onnxruntimeNodeLoader(threads = 1): PeerLoader {
  return async () => {
    let ort: typeof import('onnxruntime-node');
    try {
      ort = await import('onnxruntime-node');
    } catch (e) {
      return { unavailable: `onnxruntime-node not loadable: ${(e as Error).message.split('\n')[0]}` };
    }
    const version = ort.env.versions.node ?? '?';
    return {
      name: threads === 1 ? 'ort-node' : `ort-node-${threads}t`,
      label: `onnxruntime-node ${version} CPU EP, ${threads} intra-op thread${threads === 1 ? '' : 's'} (Scale/B as initializers)`,
      async prepare(c) {
        return prepareOrtSession(ort, c, {
          executionProviders: ['cpu'],
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
        });
      },
    };
  };
}

export const onnxruntimeNode: PeerLoader = onnxruntimeNodeLoader(1);
