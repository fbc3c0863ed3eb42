import { listModels, zooBuilder } from './zoo.ts';
import { invalidParameter, invalidType } from '../errors/index.ts';
import { checkRepoId, checkRevision } from '../formats/hf-hub.ts';

/**
 * What a model spec names. `spec` is the string as given, kept for messages.
 * - zoo: an architecture of the zoo (`resnet50`); its weights are an option beside the spec.
 * - folder: a trained model folder (one holding graft.json), by its path.
 * - onnx: an ONNX file, cut at `tensor` when one follows a `#`.
 * - tfjs: a TF.js layers model, by its model.json.
 * - hub: a timm checkpoint of the Hugging Face hub, `hf:<org>/<name>[@<revision>]` (`timm:<name>` is `hf:timm/<name>`),
 *   from its cache or downloaded into it; the revision, when given, a branch, tag or commit.
 */
export type ModelSpec =
  | { readonly kind: 'zoo'; readonly spec: string; readonly arch: string }
  | { readonly kind: 'folder'; readonly spec: string; readonly dir: string }
  | { readonly kind: 'onnx'; readonly spec: string; readonly file: string; readonly tensor: string | null }
  | { readonly kind: 'tfjs'; readonly spec: string; readonly modelJson: string }
  | { readonly kind: 'hub'; readonly spec: string; readonly repo: string; readonly revision?: string };

export type ZooModelSpec = Extract<ModelSpec, { kind: 'zoo' }>;
export type FolderModelSpec = Extract<ModelSpec, { kind: 'folder' }>;
export type OnnxModelSpec = Extract<ModelSpec, { kind: 'onnx' }>;
export type TfjsModelSpec = Extract<ModelSpec, { kind: 'tfjs' }>;
export type HubModelSpec = Extract<ModelSpec, { kind: 'hub' }>;

/** The forms a model spec takes, as messages list them. */
export const MODEL_SPEC_FORMS = 'a zoo name (graft models lists them), a trained model folder, onnx:<file.onnx>[#tensor], tfjs:<model.json>, hf:<org>/<name> or timm:<name>';

/** `scheme:` at the start; two letters at least, so a Windows drive (`C:\...`) reads as a path. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+):/;

/** Splits `path/to/model.onnx#tensor` into the file and the tensor (null when none is named). */
export function parseOnnxLocation(location: string): { file: string; tensor: string | null } {
  const hash = location.lastIndexOf('#');
  if (hash < 0) return { file: location, tensor: null };
  return { file: location.slice(0, hash), tensor: location.slice(hash + 1) || null };
}

/**
 * Reads a model spec. Only its form is checked here, never the disk: a name of the zoo is a zoo
 * model, `onnx:` and `tfjs:` name files, and any other string is taken as the path of a model
 * folder (whether one is there is the loader's business).
 */
export function parseModelSpec(spec: string): ModelSpec {
  if (typeof spec !== 'string') throw invalidType('the model', `a model spec string (${MODEL_SPEC_FORMS})`, spec);
  if (spec.trim() === '') throw invalidParameter('the model', `a model spec (${MODEL_SPEC_FORMS})`, spec);
  const scheme = SCHEME.exec(spec)?.[1];
  if (scheme === 'onnx') {
    const { file, tensor } = parseOnnxLocation(spec.slice('onnx:'.length));
    if (file === '') throw new RangeError(`Model spec "${spec}" names no file; expected onnx:<file.onnx>[#tensor]`);
    return { kind: 'onnx', spec, file, tensor };
  }
  if (scheme === 'tfjs') {
    const modelJson = spec.slice('tfjs:'.length);
    if (modelJson === '') throw new RangeError(`Model spec "${spec}" names no file; expected tfjs:<model.json>`);
    return { kind: 'tfjs', spec, modelJson };
  }
  if (scheme === 'hf' || scheme === 'timm') {
    const [name, revision, ...rest] = spec.slice(scheme.length + 1).split('@');
    const repo = checkRepoId(scheme === 'timm' ? `timm/${name}` : name);
    if (revision === undefined) return { kind: 'hub', spec, repo };
    if (rest.length) throw new RangeError(`Model spec "${spec}" has more than one @; expected ${scheme}:<${scheme === 'timm' ? 'name' : 'org>/<name'}>@<revision>`);
    return { kind: 'hub', spec, repo, revision: checkRevision(revision) };
  }
  if (scheme !== undefined) throw new RangeError(`Unknown kind of model spec "${scheme}:" in "${spec}"; expected ${MODEL_SPEC_FORMS}`);
  if (zooBuilder(spec)) return { kind: 'zoo', spec, arch: spec };
  return { kind: 'folder', spec, dir: spec };
}

/** The spec string of a description: `parseModelSpec(formatModelSpec(s))` describes `s` again. */
export function formatModelSpec(s: ModelSpec): string {
  switch (s.kind) {
    case 'zoo': return s.arch;
    case 'folder': return SCHEME.test(s.dir) || zooBuilder(s.dir) ? `./${s.dir}` : s.dir;
    case 'onnx': return `onnx:${s.file}${s.tensor === null ? '' : `#${s.tensor}`}`;
    case 'tfjs': return `tfjs:${s.modelJson}`;
    case 'hub': return `hf:${s.repo}${s.revision === undefined ? '' : `@${s.revision}`}`;
  }
}

/**
 * The message for a spec that names nothing known: neither a zoo name nor, where folders are
 * accepted, a model folder.
 */
export function unknownModelMessage(spec: string, folders: 'accepted' | 'not accepted'): string {
  const forms = folders === 'accepted'
    ? 'a trained model folder (one with graft.json), onnx:<file.onnx>[#tensor] or tfjs:<model.json>'
    : 'onnx:<file.onnx>[#tensor] or tfjs:<model.json>';
  return `Unknown model "${spec}"; expected one of ${listModels().join(', ')}, ${forms}`;
}
