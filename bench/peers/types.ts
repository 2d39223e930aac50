/** Contract between the benchmark and each peer implementation of LayerNorm. */

/** One LayerNorm problem: x is [rows, cols] row-major, normalised over the last axis. */
export interface PeerCase {
  rows: number;
  cols: number;
  x: Float32Array;
  weight: Float32Array;
  bias: Float32Array;
  eps: number;
}

export interface PreparedPeer {
  /** Does what a user does per call (create input, run, read the output back) and returns the output. */
  run(): Float32Array | Promise<Float32Array>;
  dispose?(): void | Promise<void>;
}

export interface Peer {
  name: string;
  /** one-line description incl. version, e.g. "onnxruntime-web 1.30 wasm, 1 thread, SIMD" */
  label: string;
  prepare(c: PeerCase): Promise<PreparedPeer>;
}

/** Loads the peer; returns null with a reason printed (not thrown) when it cannot load, so the run continues. */
export type PeerLoader = () => Promise<Peer | { unavailable: string }>;

export function isUnavailable<T extends object>(p: T | { unavailable: string }): p is { unavailable: string } {
  return 'unavailable' in p;
}
