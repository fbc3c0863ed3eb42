import { GraphProto, ModelProto, TensorProto } from './onnx-schema.ts';

/** Tags (field number << 3 | length-delimited) of the three fields joined here. */
const MODEL_GRAPH = (7 << 3) | 2;
const GRAPH_INITIALIZER = (5 << 3) | 2;
const TENSOR_RAW_DATA = (9 << 3) | 2;

interface GraphObject { initializer?: readonly object[]; [field: string]: unknown }
interface ModelObject { graph: GraphObject; [field: string]: unknown }

/**
 * Encodes a ModelProto with its initializers' raw bytes copied once, straight into the result.
 * protobufjs's writer copies every bytes field into its own chunks and then again into the
 * finished buffer, which for a network of hundreds of megabytes costs seconds per session. Fields
 * of a protobuf message may come in any order and a repeated field's entries need not be adjacent,
 * so the model without its graph, the graph without its initializers and each initializer are
 * encoded apart and joined, with the length prefixes written here.
 */
export function encodeModel(model: ModelObject): Uint8Array {
  const { initializer = [], ...graph } = model.graph;
  const rest = { ...model, graph: undefined };
  const parts: Uint8Array[] = [];
  const push = (b: Uint8Array) => { parts.push(b); return b.length; };

  const head = ModelProto.encode(ModelProto.fromObject(rest)).finish();
  push(head);
  const graphTagAt = parts.length;
  push(new Uint8Array(0)); // the graph's tag and length, once known
  let graphLength = push(GraphProto.encode(GraphProto.fromObject(graph)).finish());
  for (const t of initializer) {
    const { raw_data: raw, ...meta } = t as { raw_data?: Uint8Array };
    const spliced = raw instanceof Uint8Array && raw.length > 0;
    const body = TensorProto.encode(TensorProto.fromObject(spliced ? meta : t)).finish();
    const rawHeader = spliced ? [TENSOR_RAW_DATA, ...varint(raw.length)] : [];
    const tensorLength = body.length + rawHeader.length + (spliced ? raw.length : 0);
    graphLength += push(Uint8Array.from([GRAPH_INITIALIZER, ...varint(tensorLength)]));
    graphLength += push(body);
    if (spliced) {
      graphLength += push(Uint8Array.from(rawHeader));
      graphLength += push(raw);
    }
  }
  parts[graphTagAt] = Uint8Array.from([MODEL_GRAPH, ...varint(graphLength)]);

  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** A protobuf varint of a length (below 2^53). */
function varint(n: number): number[] {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return bytes;
}
