import { writePth } from '../formats/pth.ts';
import { writeSafetensors } from '../formats/safetensors.ts';
import { describeModel, foreignBackbone, resolveSource, type ExportSource } from './export-source.ts';

export { exportOnnx, type ExportOnnxOptions } from './export-onnx.ts';
export type { ExportSource, ExportedManifest } from './export-source.ts';

/**
 * The state dict as a PyTorch checkpoint (zip format): torchvision's keys and shapes, so
 * `torchvision.models.<arch>(num_classes=N).load_state_dict(torch.load(path))` takes it.
 * Only zoo architectures have a torchvision module to load into.
 */
export async function exportPth(source: ExportSource, out: string): Promise<void> {
  const { model, manifest } = await resolveSource(source);
  const foreign = foreignBackbone(manifest.model);
  if (foreign) {
    throw new TypeError(
      `Cannot export ${manifest.model} as a PyTorch checkpoint: it is ${foreign}, which has no torchvision module to load the weights into. ` +
        'Export it as onnx (or safetensors) instead',
    );
  }
  const moduleVersions = new Map<string, number>();
  for (const [prefix, m] of model.namedModules()) if (m.stateDictVersion !== undefined) moduleVersions.set(prefix, m.stateDictVersion);
  await writePth(out, model.stateDict(), { moduleVersions });
}

/** The state dict as safetensors, with labels, preprocessing and architecture in its metadata. */
export async function exportSafetensors(source: ExportSource, out: string): Promise<void> {
  const { model, manifest } = await resolveSource(source);
  await writeSafetensors(out, model.stateDict(), { format: 'pt', ...describeModel(manifest) });
}
