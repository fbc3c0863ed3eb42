/**
 * What starting a session of a large network costs before ONNX Runtime sees it: building the
 * network (with its initial values drawn, or not when weights replace them all) and encoding its
 * inference graph as ONNX (graft's encoder against protobufjs encoding the same message whole).
 * Rounds alternate the two ways; the first of each is the cold one (fresh pages).
 *
 *   node --import tsx bench/encode.ts vit_b_16 [rounds]
 */
import { models, tensor } from '../src/index.ts';
import { skipInit } from '../src/nn/init.ts';
import { compile, trace } from '../src/graph/trace.ts';
import { ModelProto } from '../src/graph/onnx-schema.ts';
import { encodeModel } from '../src/graph/onnx-encode.ts';
import type { Module } from '../src/nn/module.ts';
import type { Tensor } from '../src/graph/tensor.ts';
import { median } from './median.ts';

type Net = Module & { forward(x: Tensor): Tensor };
export interface EncodeRow { case: string; unit: string; graft: number; reference: number; against: string; rounds: { graft: number[]; reference: number[] } }

const time = async (f: () => unknown) => { const t = performance.now(); await f(); return performance.now() - t; };
const ms = (x: number) => Number(x.toFixed(1));

export async function benchEncode(arch: string, rounds: number): Promise<EncodeRow[]> {
  const build = () => (models as unknown as Record<string, () => Promise<Net>>)[arch]();
  const drawn: number[] = [];
  const skipped: number[] = [];
  for (let r = 0; r < rounds; r++) {
    drawn.push(await time(build));
    skipped.push(await time(() => skipInit(build)));
  }
  const m = await skipInit(build);
  m.eval();
  m.requiresGrad_(false);
  const bytes = compile(trace([m.forward(tensor(new Float32Array(3 * 224 * 224), [1, 3, 224, 224]))]));
  // Initializers' bytes as graft's graph builder holds them: plain Uint8Arrays, not Node Buffers.
  const message = ModelProto.toObject(ModelProto.decode(bytes)) as Parameters<typeof encodeModel>[0];
  for (const t of message.graph.initializer as { raw_data?: Uint8Array }[]) {
    if (t.raw_data) t.raw_data = new Uint8Array(t.raw_data.buffer, t.raw_data.byteOffset, t.raw_data.byteLength);
  }
  const whole: number[] = [];
  const joined: number[] = [];
  for (let r = 0; r < rounds; r++) {
    whole.push(await time(() => ModelProto.encode(ModelProto.fromObject(message)).finish()));
    joined.push(await time(() => encodeModel(message)));
  }
  const mb = (bytes.length / 2 ** 20).toFixed(0);
  return [
    { case: `${arch} build, weights to be replaced`, unit: 'ms', graft: ms(median(skipped)), reference: ms(median(drawn)), against: 'initial values drawn', rounds: { graft: skipped.map(ms), reference: drawn.map(ms) } },
    { case: `${arch} ONNX encode (${mb} MB)`, unit: 'ms', graft: ms(median(joined)), reference: ms(median(whole)), against: 'protobufjs, whole message', rounds: { graft: joined.map(ms), reference: whole.map(ms) } },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await benchEncode(process.argv[2] ?? 'vit_b_16', Number(process.argv[3] ?? 4));
  for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
}
