/** The peer implementations the benchmark compares against. */
import type { PeerLoader } from './types.js';
import { onnxruntimeWeb } from './onnxruntime-web.js';
import { onnxruntimeNode } from './onnxruntime-node.js';
import { tfjsWasm } from './tfjs-wasm.js';

export type { Peer, PeerCase, PeerLoader, PreparedPeer } from './types.js';
export { isUnavailable } from './types.js';
export { onnxruntimeNodeLoader } from './onnxruntime-node.js';
export { runNative, type NativeResult, type NativeRun } from './native.js';
export { memoryCopyRoof } from './memcpy-roof.js';

/** In-process peers (each loads lazily; a peer that cannot load reports { unavailable }). */
export const peers: PeerLoader[] = [onnxruntimeWeb, onnxruntimeNode, tfjsWasm];
export { ensureStableMalloc, STABLE_MALLOC_TUNABLES } from './stable-malloc.js';
