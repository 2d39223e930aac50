// Every kernel the module exports. Kernels take pointers and sizes, allocate nothing,
// and touch memory only inside the tensors (and host-allocated scratch) they are given.
export { layerNorm } from "./layerNorm";
export { rmsNorm } from "./rmsNorm";
export { skipNorm } from "./skipNorm";
export { normBackward } from "./normBackward";
export { bnStats, bnFinish, bnApply } from "./batchNorm";
export { foldBlocks } from "./reduce";
export { moments, BLOCK } from "./lanes";

// First byte the host may allocate from (the module keeps no static data of its own today).
export function heapBase(): usize {
  return __heap_base;
}
