import type { Tensor } from '../graph/tensor.ts';
import { Module } from '../nn/index.ts';
import { ShapeError } from '../graph/errors.ts';
import { cannotRead } from '../formats/errors.ts';
import { readTfjsLayersModel, type KerasModelJson, type TfjsLayersModelFile, type TfjsWeight } from '../formats/tfjs.ts';
import type { Preprocessing } from './catalog.ts';
import {
  Dropout, KERAS_ACTIVATIONS, KerasActivationLayer, KerasConv2D, KerasDense, KerasFlatten, KerasGlobalPooling2D, KerasMerge,
  KerasReLU, KerasRescaling, KerasReshape, KerasZeroPadding2D, kerasBatchNorm, type KerasActivation,
} from './tfjs-layers.ts';

/**
 * TF.js layers models (Teachable Machine exports, `model.save()` from TF.js, converted Keras
 * models) as graft modules. The Keras model tree is rebuilt as it is, nested models included,
 * with Keras' layer names as module names (`net.sequential_5.model2.Conv1.weight`), so its
 * parameters freeze and train like any graft model's. The input is NCHW, as graft's data pipeline
 * produces it; the graph stays NCHW throughout (see tfjs-layers.ts).
 */

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export const SUPPORTED_LAYERS = [
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'BatchNormalization', 'ReLU', 'Activation', 'ZeroPadding2D', 'Add', 'Multiply',
  'Concatenate', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Dense', 'Dropout', 'Flatten', 'Reshape', 'Rescaling',
  'Sequential', 'Model', 'Functional',
] as const;

/** Where `features` stops: the layer to stop before and, once reached, its input. */
interface Cut { before: Module; input: Tensor | null }

/** A Keras container: a Sequential chain or a Functional graph. */
abstract class KerasContainer extends Module {
  /** Adds a layer as a child named after it, so state-dict keys follow Keras' layer names. */
  protected adopt(name: string, layer: Module): string {
    let key = name.replace(/[./]/g, '_');
    // A Keras name may collide with a Module member (`training`, `forward`): keep the member.
    while (key in this) key += '_';
    (this as unknown as Record<string, Module>)[key] = layer;
    return key;
  }

  /** The leaf layers every path from input to output goes through, in order: where a cut is possible. */
  abstract spineLayers(): Generator<Module>;

  abstract override forward(x: Tensor, cut?: Cut): Tensor;
}

/** Runs a layer; containers get the cut so they can stop inside. */
function call(layer: Module, args: Tensor[], cut: Cut | undefined): Tensor {
  return layer instanceof KerasContainer ? layer.forward(args[0], cut) : layer.forward(...args);
}

function* spineOf(layer: Module): Generator<Module> {
  if (layer instanceof KerasContainer) yield* layer.spineLayers();
  else yield layer;
}

export class KerasSequential extends KerasContainer {
  readonly #layers: Module[] = [];

  constructor(layers: [string, Module][]) {
    super();
    for (const [name, layer] of layers) {
      this.adopt(name, layer);
      this.#layers.push(layer);
    }
  }

  forward(x: Tensor, cut?: Cut): Tensor {
    for (const layer of this.#layers) {
      if (cut && layer === cut.before) return (cut.input = x);
      x = call(layer, [x], cut);
      if (cut?.input) return cut.input;
    }
    return x;
  }

  *spineLayers(): Generator<Module> {
    for (const layer of this.#layers) yield* spineOf(layer);
  }
}

/** One call of a layer in a Functional graph: tensors are named `layer:call:index` as in Keras configs. */
interface LayerCall { layer: Module; inputs: string[]; output: string }

export class KerasFunctional extends KerasContainer {
  readonly #input: string;
  readonly #output: string;
  readonly #calls: LayerCall[];
  /** Calls that every path goes through: the only tensor alive before them is their input. */
  readonly #spine: Set<number>;

  constructor(layers: [string, Module][], input: string, output: string, calls: LayerCall[]) {
    super();
    for (const [name, layer] of layers) this.adopt(name, layer);
    this.#input = input;
    this.#output = output;
    this.#calls = calls;
    const lastUse = new Map<string, number>([[output, Infinity]]);
    calls.forEach((c, i) => c.inputs.forEach((k) => lastUse.set(k, Math.max(lastUse.get(k) ?? -1, i))));
    const callsOf = new Map<Module, number>();
    for (const c of calls) callsOf.set(c.layer, (callsOf.get(c.layer) ?? 0) + 1);
    // A tensor is alive from the call that makes it to its last use; each dies once, at the
    // step listed here, so a graph of thousands of layers is walked in linear time.
    const dies = new Map<number, string[]>();
    const born = (k: string, at: number) => {
      const step = Math.max(lastUse.get(k) ?? -1, at) + 1;
      if (step === Infinity) return;
      const list = dies.get(step);
      if (list) list.push(k);
      else dies.set(step, [k]);
    };
    const live = new Set([input]);
    born(input, -1);
    this.#spine = new Set();
    calls.forEach((c, i) => {
      for (const k of dies.get(i) ?? []) live.delete(k);
      const sharedLayer = callsOf.get(c.layer)! > 1;
      if (!sharedLayer && c.inputs.length === 1 && live.size === 1 && live.has(c.inputs[0])) this.#spine.add(i);
      live.add(c.output);
      born(c.output, i);
    });
  }

  forward(x: Tensor, cut?: Cut): Tensor {
    const values = new Map<string, Tensor>([[this.#input, x]]);
    for (const [i, c] of this.#calls.entries()) {
      const args = c.inputs.map((k) => values.get(k)!);
      if (cut && c.layer === cut.before && this.#spine.has(i)) return (cut.input = args[0]);
      values.set(c.output, call(c.layer, args, cut));
      if (cut?.input) return cut.input;
    }
    return values.get(this.#output)!;
  }

  *spineLayers(): Generator<Module> {
    for (const [i, c] of this.#calls.entries()) if (this.#spine.has(i)) yield* spineOf(c.layer);
  }
}

/**
 * Teachable Machine's preprocessing, as graft's eval transform expresses it: the center square
 * resized to 224 (TM crops the square then resizes; torchvision's Resize(224) + CenterCrop(224)
 * is the same up to resampling), then x / 127 - 1, which is Normalize with mean = std = 127/255
 * after ToTensor's x / 255. TM divides by 127, not 127.5, so white maps to 1.008.
 */
function teachableMachinePreprocessing(size: number): TfjsPreprocessing {
  const m = 127 / 255;
  return {
    resizeSize: size, cropSize: size, interpolation: 'bilinear', mean: [m, m, m], std: [m, m, m],
    description: `center square resized to ${size}x${size}, RGB scaled to [-1, 1] as x / 127 - 1, NCHW float32`,
  };
}

export interface TfjsPreprocessing extends Preprocessing {
  /** The same in words, for people and logs. */
  description: string;
}

/**
 * A TF.js layers model. `forward(x)` is the whole Keras model (a TM export outputs its classes'
 * probabilities, softmax included); `features(x)` stops before the head, at the input of the
 * first Dense layer on the model's main path, so a new head can be trained on it.
 */
export class TfjsLayersModel extends Module {
  /** The Keras model, with Keras' layer names. */
  net: KerasContainer;
  /** Class names in output order, from Teachable Machine's metadata.json; null without one. */
  readonly labels: string[] | null;
  /** How images must be prepared for this model; null when the export does not say (not a TM export). */
  readonly preprocessing: TfjsPreprocessing | null;
  /** Keras' input shape, as graft's (C, H, W); null where Keras leaves a size open. */
  readonly inputShape: [number | null, number | null, number | null];
  /** The width of `features(x)`, the head's input; null when the model has no Dense head. */
  readonly numFeatures: number | null;
  /** Outputs of `forward`: the last Dense layer's width, when the model ends in one. */
  readonly numClasses: number | null;
  /** Whether `forward` ends in a softmax (as TM exports do): its outputs are probabilities, not logits. */
  readonly outputsProbabilities: boolean;
  readonly source: string;
  readonly #head: KerasDense | null;

  constructor(net: KerasContainer, info: {
    labels: string[] | null; preprocessing: TfjsPreprocessing | null; inputShape: [number | null, number | null, number | null];
    numClasses: number | null; outputsProbabilities: boolean; source: string;
  }) {
    super();
    this.net = net;
    this.labels = info.labels;
    this.preprocessing = info.preprocessing;
    this.inputShape = info.inputShape;
    this.numClasses = info.numClasses;
    this.outputsProbabilities = info.outputsProbabilities;
    this.source = info.source;
    this.#head = [...net.spineLayers()].find((l): l is KerasDense => l instanceof KerasDense) ?? null;
    this.numFeatures = this.#head?.inFeatures ?? null;
  }

  private checkInput(x: Tensor): void {
    const c = this.inputShape[0];
    if (x.ndim !== 4 || (c !== null && x.shape[1] !== c)) {
      throw new ShapeError('tfjs_model', '', `expected an NCHW image batch (N, ${c ?? 'C'}, H, W) but received shape [${x.shape}]`, [x.shape]);
    }
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return this.net.forward(x);
  }

  /** The backbone's output, (N, numFeatures): what the model's first head Dense layer receives. */
  features(x: Tensor): Tensor {
    if (!this.#head) throw new Error(`${this.source} has no Dense layer on its main path, so there is no head to cut off; use forward()`);
    this.checkInput(x);
    const cut: Cut = { before: this.#head, input: null };
    this.net.forward(x, cut);
    return cut.input!;
  }

  /** The model cut before its head, as a module of its own (same parameters, not copies). */
  backbone(): Module {
    return new TfjsBackbone(this);
  }
}

/** `features` as a module, for code that expects a backbone module. */
export class TfjsBackbone extends Module {
  constructor(readonly model: TfjsLayersModel) { super(); }
  forward(x: Tensor): Tensor { return this.model.features(x); }
}

/**
 * Reads a TF.js layers model and builds it. Every weight of the file must be used by a layer and
 * every layer weight must be in the file, as TF.js itself requires.
 */
export async function loadTfjsModel(modelJson: string): Promise<TfjsLayersModel> {
  const file = await readTfjsLayersModel(modelJson);
  return buildTfjsModel(file);
}

export function buildTfjsModel(file: TfjsLayersModelFile): TfjsLayersModel {
  const builder = new Builder(file);
  const net = builder.model(file.topology, 'model');
  builder.checkAllWeightsUsed();
  const [, h, w, c] = builder.inputShape ?? [null, null, null, null];
  const last = [...net.spineLayers()].reverse().find((l) => l instanceof KerasDense) as KerasDense | undefined;
  const numClasses = last?.outFeatures ?? null;
  const labels = file.metadata?.labels.length ? file.metadata.labels : null;
  if (labels && numClasses !== null && labels.length !== numClasses) {
    throw cannotRead(file.file, `metadata.json lists ${labels.length} labels but the model outputs ${numClasses} classes`);
  }
  const size = file.metadata?.imageSize ?? h ?? 224;
  return new TfjsLayersModel(net, {
    labels,
    preprocessing: file.metadata ? teachableMachinePreprocessing(size) : null,
    inputShape: [c ?? null, h ?? null, w ?? null],
    numClasses,
    outputsProbabilities: endsInSoftmax(net),
    source: file.file,
  });
}

function endsInSoftmax(net: KerasContainer): boolean {
  const last = [...net.spineLayers()].at(-1);
  return (last instanceof KerasDense || last instanceof KerasActivationLayer) && last.activation === 'softmax';
}

/**
 * The calls of a Functional graph in the order they can run: Keras lists layers in creation
 * order, and each call runs once all its inputs exist, the earliest listed first (a heap of
 * ready calls, so a hostile order of many layers costs n log n, not n^2). Calls whose inputs
 * never appear are left out; `known` holds every tensor produced.
 */
function runOrder(pending: readonly LayerCall[], input: string): { calls: LayerCall[]; known: Set<string> } {
  const known = new Set([input]);
  const missing = pending.map((c) => new Set(c.inputs.filter((k) => k !== input)).size);
  const waiting = new Map<string, number[]>();
  pending.forEach((c, i) => {
    for (const k of new Set(c.inputs)) {
      if (k === input) continue;
      const list = waiting.get(k);
      if (list) list.push(i);
      else waiting.set(k, [i]);
    }
  });
  const ready = new MinHeap();
  missing.forEach((m, i) => { if (m === 0) ready.push(i); });
  const calls: LayerCall[] = [];
  while (ready.size) {
    const c = pending[ready.pop()];
    calls.push(c);
    if (known.has(c.output)) continue;
    known.add(c.output);
    for (const j of waiting.get(c.output) ?? []) if (--missing[j] === 0) ready.push(j);
  }
  return { calls, known };
}

/** A binary min-heap of indices. */
class MinHeap {
  readonly #a: number[] = [];
  get size(): number { return this.#a.length; }
  push(v: number): void {
    const a = this.#a;
    a.push(v);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): number {
    const a = this.#a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

/** Builds modules from Keras layer configs, taking each layer's weights from the file. */
class Builder {
  private readonly used = new Set<string>();
  /** Keras' batch input shape (N, H, W, C) of the outermost input. */
  inputShape: (number | null)[] | null = null;

  constructor(private readonly file: TfjsLayersModelFile) {}

  private fail(problem: string): never {
    throw cannotRead(this.file.file, problem);
  }

  model(entry: unknown, where: string): KerasContainer {
    if (!isRecord(entry) || typeof entry.class_name !== 'string') this.fail(`${where} is not a Keras layer config`);
    const cls = entry.class_name;
    if (cls === 'Sequential') return this.sequential(entry, where);
    if (cls === 'Model' || cls === 'Functional') return this.functional(entry, where);
    this.fail(`${where} has class ${cls}; expected a Sequential or Functional model`);
  }

  private layerName(entry: Json, where: string): string {
    const cfg = isRecord(entry.config) ? entry.config : {};
    const name = cfg.name ?? entry.name;
    if (typeof name !== 'string' || name === '') this.fail(`${where} has no name`);
    return name;
  }

  private noteInputShape(cfg: Json): void {
    const shape = cfg.batch_input_shape ?? cfg.batch_shape;
    if (this.inputShape === null && Array.isArray(shape) && shape.length === 4) {
      this.inputShape = shape.map((d) => (typeof d === 'number' ? d : null));
    }
  }

  private sequential(entry: KerasModelJson | Json, where: string): KerasSequential {
    // Keras 2.2 wrote a Sequential's config as the bare list of layers.
    const cfg = entry.config;
    const list = Array.isArray(cfg) ? cfg : isRecord(cfg) ? cfg.layers : undefined;
    if (!Array.isArray(list)) this.fail(`${where} (Sequential) has no list of layers`);
    const layers: [string, Module][] = [];
    for (const [i, layerEntry] of list.entries()) {
      if (!isRecord(layerEntry) || typeof layerEntry.class_name !== 'string') this.fail(`layer ${i} of ${where} is not a Keras layer config`);
      const name = this.layerName(layerEntry, `layer ${i} of ${where}`);
      if (isRecord(layerEntry.config)) this.noteInputShape(layerEntry.config);
      if (layerEntry.class_name === 'InputLayer') continue;
      layers.push([name, this.layer(layerEntry, name)]);
    }
    return new KerasSequential(layers);
  }

  private functional(entry: KerasModelJson | Json, where: string): KerasFunctional {
    const cfg = entry.config;
    if (!isRecord(cfg) || !Array.isArray(cfg.layers)) this.fail(`${where} (Functional) has no list of layers`);
    const modelName = typeof cfg.name === 'string' ? cfg.name : where;
    const endpoint = (v: unknown, what: string): string => {
      // input_layers / output_layers: [[name, node, tensor]], or one triple alone.
      const list = Array.isArray(v) && Array.isArray(v[0]) ? v : [v];
      if (list.length !== 1) this.fail(`model "${modelName}" has ${list.length} ${what}; graft imports models with one input and one output`);
      return this.tensorKey(list[0], `${what} of model "${modelName}"`);
    };
    const input = endpoint(cfg.input_layers, 'inputs');
    const output = endpoint(cfg.output_layers, 'outputs');
    const layers: [string, Module][] = [];
    const pending: LayerCall[] = [];
    for (const [i, layerEntry] of cfg.layers.entries()) {
      if (!isRecord(layerEntry) || typeof layerEntry.class_name !== 'string') this.fail(`layer ${i} of model "${modelName}" is not a Keras layer config`);
      const name = this.layerName(layerEntry, `layer ${i} of model "${modelName}"`);
      if (layerEntry.class_name === 'InputLayer') {
        if (isRecord(layerEntry.config)) this.noteInputShape(layerEntry.config);
        continue;
      }
      const layer = this.layer(layerEntry, name);
      layers.push([name, layer]);
      const nodes = layerEntry.inbound_nodes;
      if (!Array.isArray(nodes) || nodes.length === 0) this.fail(`layer "${name}" of model "${modelName}" has no inbound_nodes`);
      nodes.forEach((node, k) => {
        if (!Array.isArray(node) || node.length === 0) this.fail(`layer "${name}": inbound node ${k} is not a list of input tensors`);
        pending.push({ layer, inputs: node.map((t) => this.tensorKey(t, `input of layer "${name}"`)), output: `${name}:${k}:0` });
      });
    }
    const { calls, known } = runOrder(pending, input);
    if (calls.length < pending.length) {
      const scheduled = new Set(calls);
      const c = pending.find((p) => !scheduled.has(p))!;
      this.fail(`model "${modelName}": the input ${c.inputs.find((k) => !known.has(k))} of ${c.output.split(':')[0]} is never produced`);
    }
    if (!known.has(output)) this.fail(`model "${modelName}": its output ${output} is never produced`);
    return new KerasFunctional(layers, input, output, calls);
  }

  /** A tensor reference [layer, node, tensor(, kwargs)] as `layer:node:tensor`. */
  private tensorKey(ref: unknown, what: string): string {
    if (!Array.isArray(ref) || typeof ref[0] !== 'string' || !Number.isInteger(ref[1]) || !Number.isInteger(ref[2])) {
      this.fail(`${what} is ${JSON.stringify(ref)}, expected [layer name, node index, tensor index]`);
    }
    if (ref[2] !== 0) this.fail(`${what} is output ${ref[2]} of layer "${ref[0]}"; graft imports single-output layers`);
    return `${ref[0]}:${ref[1]}:0`;
  }

  /** A layer's weight by Keras name (`Conv1/kernel`), checked against the shape the layer needs. */
  private weight(layer: string, name: string, expected: (number | null)[]): TfjsWeight {
    const key = `${layer}/${name}`;
    let found = this.file.weights.get(key);
    let foundKey = key;
    if (!found) {
      // Some writers prefix weight names with the enclosing model's name.
      const suffixed = [...this.file.weights.keys()].filter((k) => k.endsWith(`/${key}`));
      if (suffixed.length === 1) [foundKey, found] = [suffixed[0], this.file.weights.get(suffixed[0])];
    }
    if (!found) this.fail(`layer "${layer}" needs weight "${key}", which weightsManifest does not list`);
    const ok = found.shape.length === expected.length && expected.every((d, i) => d === null || d === found.shape[i]);
    if (!ok) this.fail(`weight "${foundKey}" has shape [${found.shape}] but layer "${layer}" needs [${expected.map((d) => d ?? '?')}]`);
    this.used.add(foundKey);
    return found;
  }

  checkAllWeightsUsed(): void {
    const unused = [...this.file.weights.keys()].filter((k) => !this.used.has(k));
    if (unused.length) this.fail(`weightsManifest lists ${unused.length} weights no layer uses: ${unused.slice(0, 5).join(', ')}${unused.length > 5 ? ', ...' : ''}`);
  }

  private activation(layer: string, v: unknown): KerasActivation {
    const name = v ?? 'linear';
    if (typeof name !== 'string' || !(KERAS_ACTIVATIONS as readonly string[]).includes(name)) {
      this.fail(`layer "${layer}" has activation ${JSON.stringify(v)}; graft imports ${KERAS_ACTIVATIONS.join(', ')}`);
    }
    return name as KerasActivation;
  }

  private pairOf(layer: string, key: string, v: unknown, fallback: number): [number, number] {
    if (v === undefined || v === null) return [fallback, fallback];
    if (Number.isInteger(v) && (v as number) > 0) return [v as number, v as number];
    if (Array.isArray(v) && v.length === 2 && v.every((d) => Number.isInteger(d) && d > 0)) return [v[0], v[1]];
    this.fail(`layer "${layer}" has ${key} ${JSON.stringify(v)}, expected a positive integer or a pair`);
  }

  private channelsLast(layer: string, cfg: Json): void {
    if (cfg.data_format !== undefined && cfg.data_format !== null && cfg.data_format !== 'channels_last') {
      this.fail(`layer "${layer}" has data_format ${JSON.stringify(cfg.data_format)}; graft imports channels_last models`);
    }
  }

  private layer(entry: Json, name: string): Module {
    const cls = entry.class_name as string;
    const cfg = isRecord(entry.config) ? entry.config : {};
    switch (cls) {
      case 'Sequential': case 'Model': case 'Functional': return this.model(entry, `model "${name}"`);
      case 'Conv2D': return this.conv(name, cfg, false);
      case 'DepthwiseConv2D': return this.conv(name, cfg, true);
      case 'Dense': return this.dense(name, cfg);
      case 'BatchNormalization': return this.batchNorm(name, cfg);
      case 'ReLU': {
        const slope = cfg.negative_slope ?? 0;
        const threshold = cfg.threshold ?? 0;
        if (slope !== 0 || threshold !== 0) this.fail(`layer "${name}" (ReLU) has negative_slope ${slope} and threshold ${threshold}; graft imports ReLU with both 0`);
        const max = cfg.max_value ?? null;
        if (max !== null && !(typeof max === 'number' && max > 0)) this.fail(`layer "${name}" (ReLU) has max_value ${JSON.stringify(max)}`);
        return new KerasReLU(max as number | null);
      }
      case 'Activation': return new KerasActivationLayer(this.activation(name, cfg.activation));
      case 'ZeroPadding2D': return new KerasZeroPadding2D(this.zeroPadding(name, cfg));
      case 'Add': return new KerasMerge('add');
      case 'Multiply': return new KerasMerge('multiply');
      case 'Concatenate': return new KerasMerge('concatenate', Number.isInteger(cfg.axis) ? cfg.axis as number : -1);
      case 'GlobalAveragePooling2D': case 'GlobalMaxPooling2D':
        this.channelsLast(name, cfg);
        return new KerasGlobalPooling2D(cls === 'GlobalMaxPooling2D' ? 'max' : 'average', cfg.keepdims === true);
      case 'Dropout': {
        const rate = cfg.rate ?? 0;
        if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) this.fail(`layer "${name}" (Dropout) has rate ${JSON.stringify(rate)}, expected a number in [0, 1)`);
        return new Dropout(rate);
      }
      case 'Flatten': this.channelsLast(name, cfg); return new KerasFlatten();
      case 'Reshape': {
        const t = cfg.target_shape;
        if (!Array.isArray(t) || !t.every((d) => Number.isInteger(d) && (d > 0 || d === -1))) this.fail(`layer "${name}" (Reshape) has target_shape ${JSON.stringify(t)}`);
        return new KerasReshape(t as number[]);
      }
      case 'Rescaling': {
        const { scale = 1, offset = 0 } = cfg as { scale?: unknown; offset?: unknown };
        if (typeof scale !== 'number' || typeof offset !== 'number') this.fail(`layer "${name}" (Rescaling) needs numeric scale and offset`);
        return new KerasRescaling(scale, offset);
      }
      default:
        this.fail(`layer "${name}" has class ${cls}, which graft does not import; supported layers: ${SUPPORTED_LAYERS.join(', ')}`);
    }
  }

  private conv(name: string, cfg: Json, depthwise: boolean): KerasConv2D {
    this.channelsLast(name, cfg);
    const kernel = this.pairOf(name, 'kernel_size', cfg.kernel_size, 1);
    const stride = this.pairOf(name, 'strides', cfg.strides, 1);
    const dilation = this.pairOf(name, 'dilation_rate', cfg.dilation_rate, 1);
    const padding = cfg.padding ?? 'valid';
    if (padding !== 'same' && padding !== 'valid') this.fail(`layer "${name}" has padding ${JSON.stringify(padding)}; expected "same" or "valid"`);
    const activation = this.activation(name, cfg.activation);
    const useBias = cfg.use_bias !== false;
    const [kh, kw] = kernel;
    if (depthwise) {
      const m = cfg.depth_multiplier ?? 1;
      if (!Number.isInteger(m) || (m as number) < 1) this.fail(`layer "${name}" has depth_multiplier ${JSON.stringify(m)}`);
      const k = this.weight(name, 'depthwise_kernel', [kh, kw, null, m as number]);
      const c = k.shape[2];
      const out = c * (m as number);
      const bias = useBias ? this.weight(name, 'bias', [out]).data : null;
      return new KerasConv2D(depthwiseToOIHW(k.data, k.shape), [out, 1, kh, kw], bias, { kernel, stride, dilation, padding, groups: c, activation });
    }
    const filters = cfg.filters;
    const groups = cfg.groups ?? 1;
    if (!Number.isInteger(filters) || !Number.isInteger(groups)) this.fail(`layer "${name}" needs integer filters and groups`);
    const k = this.weight(name, 'kernel', [kh, kw, null, filters as number]);
    const bias = useBias ? this.weight(name, 'bias', [filters as number]).data : null;
    return new KerasConv2D(hwioToOIHW(k.data, k.shape), [filters as number, k.shape[2], kh, kw], bias, { kernel, stride, dilation, padding, groups: groups as number, activation });
  }

  private dense(name: string, cfg: Json): KerasDense {
    const units = cfg.units;
    if (!Number.isInteger(units) || (units as number) < 1) this.fail(`layer "${name}" (Dense) has units ${JSON.stringify(units)}`);
    const k = this.weight(name, 'kernel', [null, units as number]);
    const bias = cfg.use_bias !== false ? this.weight(name, 'bias', [units as number]).data : null;
    return new KerasDense(transpose2d(k.data, k.shape[0], k.shape[1]), k.shape[0], units as number, bias, this.activation(name, cfg.activation));
  }

  private batchNorm(name: string, cfg: Json) {
    const axis = Array.isArray(cfg.axis) && cfg.axis.length === 1 ? cfg.axis[0] : cfg.axis ?? -1;
    // The channel axis is the last one of Keras' NHWC (3) or (N, features) (1) tensors.
    if (axis !== -1 && axis !== 3 && axis !== 1) this.fail(`layer "${name}" (BatchNormalization) normalizes axis ${JSON.stringify(cfg.axis)}; graft imports the channel axis (-1)`);
    const eps = typeof cfg.epsilon === 'number' ? cfg.epsilon : 1e-3;
    const momentum = typeof cfg.momentum === 'number' ? cfg.momentum : 0.99;
    const mean = this.weight(name, 'moving_mean', [null]);
    const c = mean.shape[0];
    const gamma = cfg.scale !== false ? this.weight(name, 'gamma', [c]).data : null;
    const beta = cfg.center !== false ? this.weight(name, 'beta', [c]).data : null;
    const variance = this.weight(name, 'moving_variance', [c]).data;
    return kerasBatchNorm(c, eps, momentum, { gamma, beta, mean: mean.data, variance });
  }

  private zeroPadding(name: string, cfg: Json): [[number, number], [number, number]] {
    this.channelsLast(name, cfg);
    const p = cfg.padding ?? 1;
    const nat = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
    if (nat(p)) return [[p as number, p as number], [p as number, p as number]];
    if (Array.isArray(p) && p.length === 2 && p.every(nat)) return [[p[0], p[0]], [p[1], p[1]]];
    if (Array.isArray(p) && p.length === 2 && p.every((q) => Array.isArray(q) && q.length === 2 && q.every(nat))) {
      return [[p[0][0], p[0][1]], [p[1][0], p[1][1]]];
    }
    this.fail(`layer "${name}" (ZeroPadding2D) has padding ${JSON.stringify(p)}`);
  }
}

/** Keras kernel (kh, kw, in, out) -> (out, in, kh, kw). */
function hwioToOIHW(k: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
    out[((o * ci + i) * kh + y) * kw + x] = k[((y * kw + x) * ci + i) * co + o];
  }
  return out;
}

/** Depthwise kernel (kh, kw, C, M) -> (C*M, 1, kh, kw): output channel c*M + m, as TF numbers them. */
function depthwiseToOIHW(k: Float32Array, [kh, kw, c, m]: number[]): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < c; i++) for (let j = 0; j < m; j++) {
    out[((i * m + j) * kh + y) * kw + x] = k[((y * kw + x) * c + i) * m + j];
  }
  return out;
}

/** (rows, cols) -> (cols, rows). */
function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/**
 * `createModel('tfjs:<model.json>')`: the weights come from the export ('DEFAULT' names them too,
 * so callers that always pass a variant work), and its classes are fixed.
 */
export async function createTfjsModel(modelJson: string, opts: { numClasses?: number; weights?: string | null }): Promise<TfjsLayersModel> {
  if (opts.weights !== undefined && opts.weights !== null && opts.weights !== 'DEFAULT') {
    throw new RangeError(`weights "${opts.weights}" cannot be combined with tfjs:${modelJson}, whose weights come from its own files`);
  }
  const model = await loadTfjsModel(modelJson);
  if (opts.numClasses !== undefined && opts.numClasses !== model.numClasses) {
    throw new RangeError(`numClasses ${opts.numClasses} contradicts ${modelJson}, which has ${model.numClasses ?? 'no'} classes; load it, then train a new head on model.features(x)`);
  }
  return model;
}
