/**
 * Native C baseline: compiles native/layernorm.c at bench time (into a temp dir) and runs its
 * timing harness. Variants:
 *   c-sse            SSE intrinsics kernel, -O3 -msse4.2 (128-bit SIMD, the width of wasm SIMD)
 *   c-plain-fastmath plain loops, -O3 -msse4.2 -ffast-math (gcc then vectorises the reductions)
 *   c-plain          plain loops, -O3 -msse4.2 (strict IEEE: reductions stay scalar) - for reference
 * The baseline for a shape is the faster of c-sse and c-plain-fastmath.
 * The C program checks its own output against a double-precision reference (maxAbsError).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const source = fileURLToPath(new URL('./native/layernorm.c', import.meta.url));

export interface NativeResult {
  variant: 'c-sse' | 'c-plain-fastmath' | 'c-plain';
  label: string;
  rows: number;
  cols: number;
  nsPerElement: number;
  usPerCall: number;
  maxAbsError: number;
}

export interface NativeRun {
  compiler: string;
  results: NativeResult[];
  /** per shape, the faster of c-sse and c-plain-fastmath */
  baseline: NativeResult[];
}

const variants = [
  { variant: 'c-sse', flags: ['-O3', '-msse4.2'], kernel: 'sse', what: 'SSE intrinsics' },
  { variant: 'c-plain-fastmath', flags: ['-O3', '-msse4.2', '-ffast-math'], kernel: 'plain', what: 'plain loops, autovectorised' },
  { variant: 'c-plain', flags: ['-O3', '-msse4.2'], kernel: 'plain', what: 'plain loops, strict IEEE' },
] as const;

/** Compiles and runs the native baselines; resolves to { unavailable } (never throws) if it cannot. */
export async function runNative(shapes: [rows: number, cols: number][]): Promise<NativeRun | { unavailable: string }> {
  if (process.arch !== 'x64' && process.arch !== 'ia32') return { unavailable: `native baseline needs x86 SSE, this is ${process.arch}` };
  const cc = process.env.CC ?? 'cc';
  let compiler: string;
  try {
    compiler = (await run(cc, ['--version'])).stdout.split('\n')[0]!.trim();
  } catch {
    return { unavailable: `no C compiler (${cc}) found` };
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'layernorm-native-'));
  try {
    const results: NativeResult[] = [];
    const args = shapes.map(([r, c]) => `${r}x${c}`);
    for (const v of variants) {
      const exe = path.join(dir, v.variant);
      try {
        await run(cc, [...v.flags, '-o', exe, source, '-lm']);
      } catch (e) {
        return { unavailable: `${cc} ${v.flags.join(' ')} failed: ${(e as { stderr?: string }).stderr ?? e}` };
      }
      const { stdout } = await run(exe, [v.kernel, ...args], { maxBuffer: 1 << 20 });
      for (const line of stdout.trim().split('\n')) {
        const j = JSON.parse(line) as Omit<NativeResult, 'variant' | 'label'>;
        results.push({
          variant: v.variant,
          label: `C ${v.what}, ${compiler.replace(/ \(.*\)/, '')} ${v.flags.join(' ')}`,
          rows: j.rows, cols: j.cols, nsPerElement: j.nsPerElement, usPerCall: j.usPerCall, maxAbsError: j.maxAbsError,
        });
      }
    }
    const baseline = shapes.map(([rows, cols]) =>
      results
        .filter((r) => r.rows === rows && r.cols === cols && r.variant !== 'c-plain')
        .reduce((a, b) => (b.nsPerElement < a.nsPerElement ? b : a)));
    return { compiler, results, baseline };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
