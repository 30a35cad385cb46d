// The subset of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto) that a GPT-2 inference graph
// needs: plain-object message types and a static encoder on protobufjs's Writer, field numbers and
// wire types as onnx.proto (proto2: repeated scalars unpacked). Static, like pbjs's generated code,
// because protobufjs's reflection encoder compiles functions at run time, which the page's Content
// Security Policy (no 'unsafe-eval') forbids. ./proto-schema.ts holds the same schema as a
// protobufjs descriptor, whose reflection decoder checks these bytes in tests.
import { Writer } from 'protobufjs/minimal.js';

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7, BOOL: 9 } as const;

/** AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** onnx.proto's IR version 8 goes with opset 17 (LayerNormalization's first version). */
export const IR_VERSION = 8;
export const OPSET = 17;

// Plain-object forms of the messages (onnx.proto field names).
export interface TensorProto {
  name: string;
  dims: number[];
  data_type: number;
  /** Little-endian element bytes. */
  raw_data: Uint8Array;
}

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

export interface NodeProto {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: AttributeProto[];
}

/** A dimension is a fixed size or a symbolic name (dynamic). */
export type Dim = number | string;

export interface ValueInfoProto {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: Array<{ dim_value: number } | { dim_param: string }> } } };
}

export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
}

export interface ModelProto {
  ir_version: number;
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  graph: GraphProto;
  opset_import: Array<{ domain: string; version: number }>;
  metadata_props: Array<{ key: string; value: string }>;
}

export function valueInfo(name: string, elemType: number, dims: Dim[]): ValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim } } } };
}

const VARINT = 0;
const I32 = 5;
const LEN = 2;
const tag = (field: number, wire: number) => ((field << 3) | wire) >>> 0;

function str(w: Writer, field: number, v: string | undefined): void {
  if (v !== undefined) w.uint32(tag(field, LEN)).string(v);
}

function int(w: Writer, field: number, v: number | undefined): void {
  if (v === undefined) return;
  if (!Number.isSafeInteger(v)) throw new Error(`ONNX: field ${field}: ${v} is not an integer`);
  w.uint32(tag(field, VARINT)).int64(v);
}

function sub(w: Writer, field: number, write: (w: Writer) => void): void {
  w.uint32(tag(field, LEN)).fork();
  write(w);
  w.ldelim();
}

function tensor(w: Writer, t: TensorProto): void {
  for (const d of t.dims) int(w, 1, d);
  int(w, 2, t.data_type);
  str(w, 8, t.name);
  w.uint32(tag(9, LEN)).bytes(t.raw_data);
}

function attribute(w: Writer, a: AttributeProto): void {
  str(w, 1, a.name);
  if (a.f !== undefined) w.uint32(tag(2, I32)).float(a.f);
  int(w, 3, a.i);
  if (a.s !== undefined) w.uint32(tag(4, LEN)).bytes(a.s);
  for (const f of a.floats ?? []) w.uint32(tag(7, I32)).float(f);
  for (const i of a.ints ?? []) int(w, 8, i);
  int(w, 20, a.type);
}

function node(w: Writer, n: NodeProto): void {
  for (const i of n.input) str(w, 1, i);
  for (const o of n.output) str(w, 2, o);
  str(w, 3, n.name);
  str(w, 4, n.op_type);
  for (const a of n.attribute) sub(w, 5, (x) => attribute(x, a));
}

function valueInfoMsg(w: Writer, v: ValueInfoProto): void {
  str(w, 1, v.name);
  const tt = v.type.tensor_type;
  sub(w, 2, (x) =>
    sub(x, 1, (y) => {
      int(y, 1, tt.elem_type);
      sub(y, 2, (z) => {
        for (const d of tt.shape.dim) sub(z, 1, (u) => ('dim_value' in d ? int(u, 1, d.dim_value) : str(u, 2, d.dim_param)));
      });
    }),
  );
}

function graph(w: Writer, g: GraphProto): void {
  for (const n of g.node) sub(w, 1, (x) => node(x, n));
  str(w, 2, g.name);
  for (const t of g.initializer) sub(w, 5, (x) => tensor(x, t));
  for (const v of g.input) sub(w, 11, (x) => valueInfoMsg(x, v));
  for (const v of g.output) sub(w, 12, (x) => valueInfoMsg(x, v));
}

/** ModelProto -> .onnx bytes. */
export function encodeModel(m: ModelProto): Uint8Array {
  const w = Writer.create();
  int(w, 1, m.ir_version);
  str(w, 2, m.producer_name);
  str(w, 3, m.producer_version);
  str(w, 6, m.doc_string);
  sub(w, 7, (x) => graph(x, m.graph));
  for (const o of m.opset_import) {
    sub(w, 8, (x) => {
      str(x, 1, o.domain);
      int(x, 2, o.version);
    });
  }
  for (const kv of m.metadata_props) {
    sub(w, 14, (x) => {
      str(x, 1, kv.key);
      str(x, 2, kv.value);
    });
  }
  return w.finish();
}
