// Every kernel the module exports. Kernels take pointers and sizes, allocate nothing,
// and touch memory only inside the tensors (and host-allocated scratch) they are given.
export { layerNorm } from "./layerNorm";
export { rmsNorm } from "./rmsNorm";
export { skipNorm } from "./skipNorm";
export { normBackward } from "./normBackward";
export { bnStats, bnFinish, bnApply } from "./batchNorm";
export { foldBlocks } from "./reduce";
export { groupNorm, groupNormBackward, groupNormWorkBytes } from "./groupNorm";
export { moments, BLOCK } from "./lanes";

// First byte the host may allocate from (the module keeps no static data of its own today).
export function heapBase(): usize {
  return __heap_base;
}

// Copies rows * cols floats from src to dst with memory.copy: the memory-bandwidth roof the
// benchmarks compare against, run through the same thread pool as the kernels.
export function copyRows(src: usize, dst: usize, rows: i32, cols: i32): void {
  memory.copy(dst, src, <usize>rows * <usize>cols << 2);
}

// Test hook: a real trap, for the thread pool's failure path (a worker that traps mid-job).
export function debugTrap(): void {
  unreachable();
}
