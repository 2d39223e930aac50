// Every kernel the module exports. Kernels take pointers and sizes, allocate nothing,
// and touch memory only inside the tensors they are given.
export { layerNorm } from "./layerNorm";
export { moments } from "./lanes";

// First byte the host may allocate from (the module keeps no static data of its own today).
export function heapBase(): usize {
  return __heap_base;
}
