// Benchmark-only kernel (not part of the library): s = (x + skip) [+ rb] in one f32 SIMD pass,
// the add a caller would run before an unfused norm. skip has skipLen elements (a multiple of cols
// dividing n), rb has cols. Same roundings as the fused kernel, so the sums are bitwise equal.
export function addRows(x: usize, skip: usize, skipLen: i32, rb: usize, cols: i32, s: usize, n: i32): void {
  const rowBytes = <usize>cols << 2, skipBytes = <usize>skipLen << 2;
  let sk: usize = 0;
  for (let r = 0; r < n; r += cols) {
    const o = <usize>r << 2;
    let j = 0;
    if (rb) {
      for (; j + 4 <= cols; j += 4) {
        const p = <usize>j << 2;
        v128.store(s + o + p, f32x4.add(f32x4.add(v128.load(x + o + p), v128.load(skip + sk + p)), v128.load(rb + p)));
      }
      for (; j < cols; j++) {
        const p = <usize>j << 2;
        store<f32>(s + o + p, (load<f32>(x + o + p) + load<f32>(skip + sk + p)) + load<f32>(rb + p));
      }
    } else {
      for (; j + 4 <= cols; j += 4) {
        const p = <usize>j << 2;
        v128.store(s + o + p, f32x4.add(v128.load(x + o + p), v128.load(skip + sk + p)));
      }
      for (; j < cols; j++) {
        const p = <usize>j << 2;
        store<f32>(s + o + p, load<f32>(x + o + p) + load<f32>(skip + sk + p));
      }
    }
    sk += rowBytes;
    if (sk == skipBytes) sk = 0;
  }
}
