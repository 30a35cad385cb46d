// A small builder for ONNX graphs: nodes with generated output names, initializers stored as
// little-endian raw_data, typed attributes. Plain TypeScript (browser worker and Node).
import { AttributeType, DataType, type AttributeProto, type NodeProto, type TensorProto } from './proto';

export type Attr = { kind: 'int'; v: number } | { kind: 'float'; v: number } | { kind: 'ints'; v: number[] } | { kind: 'string'; v: string };

export const int = (v: number): Attr => ({ kind: 'int', v });
export const float = (v: number): Attr => ({ kind: 'float', v });
export const ints = (v: number[]): Attr => ({ kind: 'ints', v });
export const str = (v: string): Attr => ({ kind: 'string', v });

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function f32Bytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.length * 4);
  const dv = new DataView(out.buffer);
  data.forEach((x, i) => dv.setFloat32(i * 4, x, true));
  return out;
}

function i64Bytes(data: readonly number[]): Uint8Array {
  const out = new Uint8Array(data.length * 8);
  const dv = new DataView(out.buffer);
  data.forEach((x, i) => {
    if (!Number.isSafeInteger(x)) throw new Error(`int64 constant ${x} is not a safe integer`);
    dv.setBigInt64(i * 8, BigInt(x), true);
  });
  return out;
}

function attribute(name: string, a: Attr): AttributeProto {
  switch (a.kind) {
    case 'int':
      return { name, type: AttributeType.INT, i: a.v };
    case 'float':
      return { name, type: AttributeType.FLOAT, f: a.v };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: a.v };
    case 'string':
      return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.v) };
  }
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private names = new Set<string>();
  private count = 0;

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph: the name "${name}" is used twice`);
    this.names.add(name);
    return name;
  }

  /** A float32 initializer of the given shape (data.length must equal the product of dims). */
  weight(name: string, dims: number[], data: Float32Array): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`ONNX initializer "${name}": ${data.length} values for shape [${dims.join(', ')}]`);
    this.initializers.push({ name: this.claim(name), dims, data_type: DataType.FLOAT, raw_data: f32Bytes(data) });
    return name;
  }

  /** An int64 constant; dims [] is a scalar. */
  int64(name: string, dims: number[], values: number[]): string {
    this.initializers.push({ name: this.claim(name), dims, data_type: DataType.INT64, raw_data: i64Bytes(values) });
    return name;
  }

  /** A float32 scalar constant. */
  scalar(name: string, value: number): string {
    return this.weight(name, [], Float32Array.of(value));
  }

  /** Appends one node; returns its output names (`out` names them, else generated from `label`). */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, label = opType, outputs = 1, out?: string[]): string[] {
    const id = this.count++;
    const names = out ?? Array.from({ length: outputs }, (_, k) => `${label}_${id}${outputs > 1 ? `_${k}` : ''}`);
    for (const n of names) this.claim(n);
    this.nodes.push({
      name: `${label}_${id}`,
      op_type: opType,
      input: inputs,
      output: names,
      attribute: Object.entries(attrs).map(([k, a]) => attribute(k, a)),
    });
    return names;
  }

  /** op() for the common single-output case. */
  op1(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, label = opType, out?: string): string {
    return this.op(opType, inputs, attrs, label, 1, out ? [out] : undefined)[0];
  }
}
