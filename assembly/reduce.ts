// Folding of per-block partial sums (the cross-row reductions of normBackward and batchNorm).
//
// parts holds `blocks` blocks of 2 * cols f64 each (two sums per column, e.g. dW then dB).
// For every element k: total[k] = +0 if init; then total[k] += parts[b][k] for b = 0, 1, ... in
// order. So the result is a left fold over the blocks in block order, whatever the calls' split:
// folding blocks 0..3 then 4..7 equals folding 0..7 at once. out0/out1 (if != 0) receive
// f32(total) of the first and second half. src/fallback/reduce.ts is the twin.
export function foldBlocks(parts: usize, blocks: i32, cols: i32, total: usize, init: bool, out0: usize, out1: usize): void {
  assert(blocks >= 0 && cols > 0 && !((parts | total | out0 | out1) & 3), "foldBlocks: bad sizes or unaligned pointer");
  const bytes = <usize>cols << 4;
  if (init) memory.fill(total, 0, bytes);
  for (let b = 0; b < blocks; b++) {
    const p = parts + <usize>b * bytes;
    for (let o: usize = 0; o < bytes; o += 16) v128.store(total + o, f64x2.add(v128.load(total + o), v128.load(p + o)));
  }
  if (out0) demoteRow(total, out0, cols);
  if (out1) demoteRow(total + (<usize>cols << 3), out1, cols);
}

// out[j] = f32(src[j]) for j < n (f64 -> f32, four at a time: the rounding of a scalar demote).
function demoteRow(src: usize, out: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const p = src + (<usize>j << 3);
    const a = f32x4.demote_f64x2_zero(v128.load(p)), b = f32x4.demote_f64x2_zero(v128.load(p, 16));
    v128.store(out + (<usize>j << 2), i64x2.shuffle(a, b, 0, 2));
  }
  for (; j < n; j++) store<f32>(out + (<usize>j << 2), <f32>load<f64>(src + (<usize>j << 3)));
}
