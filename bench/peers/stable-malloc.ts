/**
 * Peers that return a freshly allocated output (onnxruntime, tfjs, and any API that allocates per
 * call) hit glibc malloc, whose dynamic mmap threshold makes a large block come either from the
 * heap (pages already mapped) or from a new mmap (every page faulted in again, on every call),
 * depending on what was allocated and freed before. On this VM a first-touch page fault costs
 * ~12 µs per 4 KiB (0.35 GB/s), so the same peer measured 0.8 or 12-16 ns/element at 512x768
 * depending on the order of the runs. A fixed, high mmap threshold (and no trimming) keeps large
 * blocks on the heap and makes the numbers order-independent; on ordinary machines the effect is small.
 */
import { spawnSync } from 'node:child_process';

export const STABLE_MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=4294967296';

/** Re-runs this process with GLIBC_TUNABLES set (unless already set, or `--default-malloc` is given). */
export function ensureStableMalloc(): void {
  if (process.env.GLIBC_TUNABLES !== undefined || process.argv.includes('--default-malloc')) return;
  if (process.platform !== 'linux') return;
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, GLIBC_TUNABLES: STABLE_MALLOC_TUNABLES },
  });
  process.exit(r.status ?? 1);
}
