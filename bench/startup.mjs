// Cold start, measured in a fresh process: import of the package + runtime initialisation, then
// the first call. Prints one JSON line. Run by bench/compare.ts several times.
const t0 = performance.now();
const m = await import(new URL("../dist/bundle/index.js", import.meta.url).href);
m.initSync();
const t1 = performance.now();
m.layerNorm(new Float32Array(768), 768);
const t2 = performance.now();
console.log(JSON.stringify({ importInitMs: t1 - t0, firstCallMs: t2 - t1, backend: m.getBackend() }));
