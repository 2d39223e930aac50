/**
 * Builds a one-node ONNX model in memory: Y = LayerNormalization(X, Scale, B), opset 17,
 * axis = -1, float32. X has shape ["N", cols] (symbolic batch); Scale and B are initializers,
 * as in an exported model where they are trained weights.
 *
 * The protobuf encoding is written by hand; field numbers are those of onnx/onnx.proto.
 */
import type { PeerCase, PreparedPeer } from './types.js';

type Bytes = Uint8Array;
const utf8 = new TextEncoder();

function concat(parts: Bytes[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Base-128 varint; negative int64 values use their 64-bit two's complement (10 bytes). */
function varint(value: number | bigint): Bytes {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? b | 0x80 : b);
  } while (v);
  return Uint8Array.from(out);
}

const key = (field: number, wire: number) => varint((field << 3) | wire);
/** wire type 0: int32/int64/enum */
const int = (field: number, v: number) => concat([key(field, 0), varint(v)]);
/** wire type 5: float */
const float = (field: number, v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  return concat([key(field, 5), b]);
};
/** wire type 2: bytes, strings and embedded messages */
const bytes = (field: number, data: Bytes) => concat([key(field, 2), varint(data.length), data]);
const str = (field: number, s: string) => bytes(field, utf8.encode(s));
const msg = (field: number, ...parts: Bytes[]) => bytes(field, concat(parts));

const FLOAT = 1; // TensorProto.DataType.FLOAT (also TypeProto.Tensor.elem_type)
const ATTR_FLOAT = 1, ATTR_INT = 2; // AttributeProto.AttributeType

/** ValueInfoProto{name=1, type=2: TypeProto{tensor_type=1: {elem_type=1, shape=2: {dim=1: {dim_value=1 | dim_param=2}}}}} */
function valueInfo(field: number, name: string, dims: (number | string)[]): Bytes {
  const shape = dims.map((d) => msg(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  return msg(field, str(1, name), msg(2, msg(1, int(1, FLOAT), msg(2, ...shape))));
}

/** TensorProto{dims=1, data_type=2, name=8, raw_data=9 (little-endian)} */
function initializer(field: number, name: string, data: Float32Array): Bytes {
  const raw = new Uint8Array(data.length * 4);
  const dv = new DataView(raw.buffer);
  data.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return msg(field, int(1, data.length), int(2, FLOAT), str(8, name), bytes(9, raw));
}

export function layerNormModel(weight: Float32Array, bias: Float32Array, eps: number): Uint8Array {
  const cols = weight.length;
  // NodeProto{input=1, output=2, name=3, op_type=4, attribute=5: AttributeProto{name=1, f=2, i=3, type=20}}
  const node = msg(1,
    str(1, 'X'), str(1, 'Scale'), str(1, 'B'), str(2, 'Y'),
    str(3, 'ln'), str(4, 'LayerNormalization'),
    msg(5, str(1, 'axis'), int(3, -1), int(20, ATTR_INT)),
    msg(5, str(1, 'epsilon'), float(2, eps), int(20, ATTR_FLOAT)),
  );
  // GraphProto{node=1, name=2, initializer=5, input=11, output=12}
  const graph = msg(7,
    node, str(2, 'layernorm'),
    initializer(5, 'Scale', weight), initializer(5, 'B', bias),
    valueInfo(11, 'X', ['N', cols]),
    valueInfo(12, 'Y', ['N', cols]),
  );
  // ModelProto{ir_version=1, producer_name=2, graph=7, opset_import=8: {domain=1, version=2}}
  return concat([int(1, 8), str(2, 'layernorm-wasm-bench'), graph, msg(8, str(1, ''), int(2, 17))]);
}

/** The slice of the onnxruntime API (web and node alike) the peers use. */
interface Ort {
  InferenceSession: { create(model: Uint8Array, options: object): Promise<{ run(feeds: object): Promise<Record<string, { data: unknown }>>; release(): Promise<void> }> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => object;
}

/** A session of the one-node model for case `c`; per call: wrap x in an ort.Tensor, session.run, read Y's data. */
export async function prepareOrtSession(ort: Ort, c: PeerCase, options: object): Promise<PreparedPeer> {
  const session = await ort.InferenceSession.create(layerNormModel(c.weight, c.bias, c.eps), options);
  const dims = [c.rows, c.cols];
  return {
    async run() {
      const out = await session.run({ X: new ort.Tensor('float32', c.x, dims) });
      return out.Y!.data as Float32Array;
    },
    dispose: () => session.release(),
  };
}

const ATTR_INTS = 7;
const node = (inputs: string[], outputs: string[], name: string, op: string, ...attrs: Bytes[]) =>
  msg(1, ...inputs.map((s) => str(1, s)), ...outputs.map((s) => str(2, s)), str(3, name), str(4, op), ...attrs);
const floatAttr = (name: string, v: number) => msg(5, str(1, name), float(2, v), int(20, ATTR_FLOAT));
const intAttr = (name: string, v: number) => msg(5, str(1, name), int(3, v), int(20, ATTR_INT));
const intsAttr = (name: string, v: number[]) => msg(5, str(1, name), ...v.map((i) => int(8, i)), int(20, ATTR_INTS));

/**
 * One-node ONNX models for the GroupNorm benchmark: GroupNormalization (opset 21: scale and bias
 * per channel, attrs epsilon and num_groups) or, with numGroups = 0, InstanceNormalization
 * (opset 6, ai.onnx domain at version 21). X is NCHW `dims`. With channelsLast the graph takes
 * [N, ...spatial, C] and wraps the node in two Transposes, as an NHWC model exported to ONNX does
 * (both ops are defined on NCHW only).
 */
export function groupNormModel(weight: Float32Array, bias: Float32Array, eps: number, numGroups: number, dims: number[], channelsLast: boolean): Uint8Array {
  const rank = dims.length;
  const nodes: Bytes[] = [];
  const attrs = numGroups ? [floatAttr('epsilon', eps), intAttr('num_groups', numGroups)] : [floatAttr('epsilon', eps)];
  const op = numGroups ? 'GroupNormalization' : 'InstanceNormalization';
  let ioDims = dims;
  if (channelsLast) {
    ioDims = [dims[0]!, ...dims.slice(2), dims[1]!];
    nodes.push(node(['X'], ['Xt'], 'to_nchw', 'Transpose', intsAttr('perm', [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)])));
    nodes.push(node(['Xt', 'Scale', 'B'], ['Yt'], 'norm', op, ...attrs));
    nodes.push(node(['Yt'], ['Y'], 'to_nhwc', 'Transpose', intsAttr('perm', [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1])));
  } else {
    nodes.push(node(['X', 'Scale', 'B'], ['Y'], 'norm', op, ...attrs));
  }
  const graph = msg(7,
    ...nodes, str(2, 'groupnorm'),
    initializer(5, 'Scale', weight), initializer(5, 'B', bias),
    valueInfo(11, 'X', ioDims),
    valueInfo(12, 'Y', ioDims),
  );
  return concat([int(1, 10), str(2, 'layernorm-wasm-bench'), graph, msg(8, str(1, ''), int(2, 21))]);
}
