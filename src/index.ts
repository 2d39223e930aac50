// layernorm-wasm: LayerNorm and the normalization family (RMSNorm, fused residual add + norm,
// backward passes, BatchNorm) as WebAssembly SIMD kernels over memory shared with JS, with a
// pure-JS fallback that returns the same bits.
import { defaultRuntime, initAsync, initSync as initDefault } from "./runtime/default.js";
import { Runtime, runtimeOptions, type Backend, type BackendChoice, type InitOptions, type RuntimeOptions } from "./runtime/runtime.js";
import type { Tensor } from "./runtime/memory.js";

export { layerNorm, LayerNorm, type LayerNormOptions, type LayerNormModuleOptions } from "./ops/layerNorm.js";
export { rmsNorm, RMSNorm, RMS_NORM_EPS, type RMSNormOptions, type RMSNormModuleOptions } from "./ops/rmsNorm.js";
export { skipLayerNorm, skipRmsNorm, type SkipLayerNormOptions, type SkipRmsNormOptions } from "./ops/skipNorm.js";
export {
  layerNormBackward, rmsNormBackward, type LayerNormBackwardOptions, type RmsNormBackwardOptions, type NormGradients,
} from "./ops/normBackward.js";
export { batchNorm, BatchNorm, type BatchNormOptions, type BatchNormModuleOptions } from "./ops/batchNorm.js";
export {
  groupNorm, groupNormBackward, GroupNorm, type GroupNormOptions, type GroupNormBackwardOptions, type GroupNormModuleOptions,
} from "./ops/groupNorm.js";
export { instanceNorm, InstanceNorm, type InstanceNormOptions, type InstanceNormModuleOptions } from "./ops/instanceNorm.js";
export { Tensor } from "./runtime/memory.js";
export { Runtime, type Backend, type BackendChoice, type RuntimeOptions, type InitOptions, type Float32Like } from "./runtime/runtime.js";
export { simdSupported, wasmBytes } from "./runtime/module.js";
export { sharedMemoryVariant, threadsSupported } from "./runtime/shared.js";
export type { Shape } from "./ops/validate.js";

/**
 * Initialises the default runtime. Optional: the first call does it synchronously. Use it to
 * start worker threads (`threads: 2` or "auto"), pass a precompiled WebAssembly.Module (strict
 * CSP, workers) or its bytes, pick a backend, or cap memory. Resolves to the active backend.
 */
export async function init(options?: InitOptions): Promise<Backend> {
  const { module, ...rest } = runtimeOptions("init", options, true);
  const compiled = module === undefined || module instanceof WebAssembly.Module ? module : await WebAssembly.compile(module);
  return (await initAsync({ ...rest, ...(compiled ? { module: compiled } : {}) })).backend;
}

/** Synchronous init (see init); returns the active backend. */
export function initSync(options?: RuntimeOptions): Backend {
  return initDefault(options).backend;
}

/** A separate runtime (own memory, tensors and backend); ops use it via options.runtime or its tensors. */
export function createRuntime(options?: RuntimeOptions): Runtime {
  return new Runtime(runtimeOptions("createRuntime", options));
}

/** Threads the default runtime runs kernels on (1 unless init({ threads }) started a pool). */
export function getThreads(): number {
  return defaultRuntime().threads;
}

/** Stops the default runtime's worker threads; later calls run on the calling thread, same results. */
export function shutdown(): void {
  defaultRuntime().shutdown();
}

/** Chooses the default runtime's backend; returns the active one. */
export function setBackend(choice: BackendChoice): Backend {
  return defaultRuntime().setBackend(choice);
}

/** The default runtime's active backend ("wasm" or "js"). */
export function getBackend(): Backend {
  return defaultRuntime().backend;
}

/** A zero-filled tensor of `length` float32 elements in the default runtime's memory. */
export function alloc(length: number): Tensor {
  return defaultRuntime().alloc(length);
}

/** A tensor in the default runtime's memory holding a copy of `values`. */
export function tensor(values: ArrayLike<number> | Tensor): Tensor {
  return defaultRuntime().from(values);
}
