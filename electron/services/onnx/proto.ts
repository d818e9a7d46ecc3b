/**
 * A small builder over onnx-proto's generated messages: nodes, constants
 * (initializers) and typed attributes, with names handed out in call order so
 * the same calls always give the same bytes.
 */
import { onnx } from 'onnx-proto';

export type DType = 'float32' | 'float64' | 'int64' | 'string' | 'bool';

/** ONNX element type numbers (TensorProto.DataType), also Cast's `to`. */
export const ELEM_TYPE: Record<DType, onnx.TensorProto.DataType> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
  string: onnx.TensorProto.DataType.STRING,
  bool: onnx.TensorProto.DataType.BOOL,
};

const utf8 = (s: string) => new TextEncoder().encode(s);
const A = onnx.AttributeProto.AttributeType;

/** Typed attribute makers: ONNX tells an int from a float, JavaScript does not. */
export const attr = {
  int: (name: string, i: number): onnx.IAttributeProto => ({ name, type: A.INT, i }),
  float: (name: string, f: number): onnx.IAttributeProto => ({ name, type: A.FLOAT, f }),
  string: (name: string, s: string): onnx.IAttributeProto => ({ name, type: A.STRING, s: utf8(s) }),
  ints: (name: string, ints: ArrayLike<number>): onnx.IAttributeProto => ({ name, type: A.INTS, ints: Array.from(ints) }),
  floats: (name: string, floats: ArrayLike<number>): onnx.IAttributeProto => ({ name, type: A.FLOATS, floats: Array.from(floats) }),
  strings: (name: string, strings: string[]): onnx.IAttributeProto => ({ name, type: A.STRINGS, strings: strings.map(utf8) }),
  tensor: (name: string, t: onnx.ITensorProto): onnx.IAttributeProto => ({ name, type: A.TENSOR, t }),
};

/** A tensor with its values little-endian in raw_data (strings in string_data). */
export function tensor(dtype: DType, values: ArrayLike<number> | string[], dims: number[], name = ''): onnx.ITensorProto {
  const t: onnx.ITensorProto = { name, dataType: ELEM_TYPE[dtype], dims };
  if (dtype === 'string') {
    t.stringData = (values as string[]).map(utf8);
    return t;
  }
  const nums = values as ArrayLike<number>;
  const width = dtype === 'float32' ? 4 : dtype === 'bool' ? 1 : 8;
  const view = new DataView(new ArrayBuffer(nums.length * width));
  for (let i = 0; i < nums.length; i++) {
    const v = nums[i]!;
    if (dtype === 'float64') view.setFloat64(i * 8, v, true);
    else if (dtype === 'float32') view.setFloat32(i * 4, v, true);
    else if (dtype === 'int64') view.setBigInt64(i * 8, BigInt(v), true);
    else view.setUint8(i, v ? 1 : 0);
  }
  t.rawData = new Uint8Array(view.buffer);
  return t;
}

/** A graph input or output: a tensor of `dtype` with symbolic ('N') or fixed dimensions. */
export function valueInfo(name: string, dtype: DType, shape: (string | number)[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM_TYPE[dtype],
        shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private readonly taken: Set<string>;
  private readonly scalars = new Map<string, string>();
  private count = 0;

  /** `reserved`: names the graph's inputs and outputs use, which no inner value may take. */
  constructor(reserved: Iterable<string>) {
    this.taken = new Set(reserved);
  }

  /** A fresh value name: `hint` and a running number, never a reserved name. */
  name(hint: string): string {
    let n: string;
    do n = `${hint}_${this.count++}`;
    while (this.taken.has(n));
    this.taken.add(n);
    return n;
  }

  /** Adds a node; returns its output names (`outputs` of them, or exactly `outputNames`). */
  node(opType: string, inputs: string[], attributes: onnx.IAttributeProto[] = [], opts: { domain?: string; outputs?: number; outputNames?: string[] } = {}): string[] {
    const output = opts.outputNames ?? Array.from({ length: opts.outputs ?? 1 }, () => this.name(opType.toLowerCase()));
    this.nodes.push({ name: `${opType}_${this.nodes.length}`, opType, domain: opts.domain ?? '', input: inputs, output, attribute: attributes });
    return output;
  }

  /** One-output node. */
  op(opType: string, inputs: string[], attributes: onnx.IAttributeProto[] = [], domain = ''): string {
    return this.node(opType, inputs, attributes, { domain })[0]!;
  }

  /** One-output node of the ai.onnx.ml domain. */
  ml(opType: string, inputs: string[], attributes: onnx.IAttributeProto[] = []): string {
    return this.op(opType, inputs, attributes, 'ai.onnx.ml');
  }

  /** A constant tensor (an initializer). */
  constant(dtype: DType, values: ArrayLike<number> | string[], dims: number[], hint = 'const'): string {
    const name = this.name(hint);
    this.initializers.push(tensor(dtype, values, dims, name));
    return name;
  }

  /** A scalar constant, shared by every use of the same value and type. */
  scalar(dtype: DType, value: number | string): string {
    const key = `${dtype}:${Object.is(value, -0) ? '-0' : String(value)}`;
    let name = this.scalars.get(key);
    if (!name) {
      name = this.constant(dtype, dtype === 'string' ? [value as string] : [value as number], [], 'scalar');
      this.scalars.set(key, name);
    }
    return name;
  }

  /** A 1-D int64 constant (axes, shapes, indices), shared like scalars. */
  int64s(values: number[]): string {
    const key = `int64s:${values.join(',')}`;
    let name = this.scalars.get(key);
    if (!name) {
      name = this.constant('int64', values, [values.length], 'ints');
      this.scalars.set(key, name);
    }
    return name;
  }

  cast(x: string, to: DType): string {
    return this.op('Cast', [x], [attr.int('to', ELEM_TYPE[to])]);
  }

  graph(name: string, inputs: onnx.IValueInfoProto[], outputs: onnx.IValueInfoProto[], docString: string): onnx.IGraphProto {
    return { name, node: this.nodes, initializer: this.initializers, input: inputs, output: outputs, docString };
  }
}

export interface ModelInfo {
  graph: onnx.IGraphProto;
  producerVersion: string;
  modelVersion: number;
  docString: string;
  metadata: [string, string][];
}

/** The IR and operator-set versions the app writes: the newest that Debian's onnx 1.12 checker accepts. */
export const IR_VERSION = 8;
export const OPSETS = [
  { domain: '', version: 17 },
  { domain: 'ai.onnx.ml', version: 3 },
];

export function encodeModel(m: ModelInfo): Uint8Array {
  const model: onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: OPSETS,
    producerName: 'Millwright',
    producerVersion: m.producerVersion,
    domain: 'io.millwright',
    modelVersion: m.modelVersion,
    docString: m.docString,
    graph: m.graph,
    metadataProps: m.metadata.map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(model).finish();
}
