// JS twin of assembly/reduce.ts foldBlocks: total[k] = +0 if init, then += parts[b][k] for each
// block b in order; out0/out1 receive f32(total) of the first and second half.
export function foldBlocksJs(
  parts: Float64Array, po: number, blocks: number, cols: number, total: Float64Array, init: boolean,
  out0: Float32Array | null, out1: Float32Array | null,
): void {
  const width = 2 * cols;
  if (init) total.fill(0, 0, width);
  for (let b = 0; b < blocks; b++) {
    const p = po + b * width;
    for (let k = 0; k < width; k++) total[k] = total[k]! + parts[p + k]!;
  }
  if (out0) for (let j = 0; j < cols; j++) out0[j] = total[j]!;
  if (out1) for (let j = 0; j < cols; j++) out1[j] = total[cols + j]!;
}
