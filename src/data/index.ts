export { decodeImage, readImageSize, DecodeError, DEFAULT_MAX_PIXELS, type DecodeOptions } from './decode.ts';
export { decodeBmp, BmpError } from './bmp.ts';
export { rgbImage, imageTensor, type RgbImage, type ImageTensor, type Sample } from './image.ts';
export { Rng, hashString } from './rng.ts';
export { Resize, resize, resizedSize, type Size } from './transforms/resize.ts';
export { resample, resampleInJavaScript, type Interpolation } from './transforms/resample.ts';
export { CenterCrop, centerCrop, crop } from './transforms/crop.ts';
export { ToTensor, Normalize, toTensor, normalize } from './transforms/tensor.ts';
export { Compose } from './transforms/compose.ts';
export { RandomResizedCrop, resizedCrop, type CropBox } from './transforms/random-resized-crop.ts';
export { RandomHorizontalFlip, hflip } from './transforms/flip.ts';
export { evalPreset, IMAGENET_MEAN, IMAGENET_STD, type EvalPresetOptions } from './transforms/presets.ts';
export { manualSeed, withSeed, generators, Generators } from './generators.ts';
export { transformFromSpec, type Transform, type TransformSpec } from './transforms/transform.ts';
export { ColorJitter, type ColorJitterOptions, type ColorJitterParams } from './transforms/color-jitter.ts';
export { RandomRotation, type RandomRotationOptions } from './transforms/random-rotation.ts';
export { RandomErasing, erase, type RandomErasingOptions, type EraseParams } from './transforms/random-erasing.ts';
export { TrivialAugmentWide, applyOp, augmentationSpace, TRIVIAL_AUGMENT_OPS, type TrivialAugmentOp } from './transforms/trivial-augment.ts';
export { affine, rotate, warpAffine } from './transforms/affine.ts';
export {
  adjustBrightness, adjustContrast, adjustSaturation, adjustHue, adjustSharpness,
  posterize, solarize, autocontrast, equalize,
} from './transforms/color-ops.ts';
export { DataLoader, Batch, type DataLoaderOptions, type LoaderSummary, type SkippedFile } from './loader.ts';
export { SampleList, DatasetError, type DatasetSample, type ImageDataset } from './datasets/dataset.ts';
export { ImageFolder, IMG_EXTENSIONS, scanImageFolder, type ImageFolderOptions, type ScannedFolder } from './datasets/image-folder.ts';
export { loadImageFolders, type DatasetSplits } from './datasets/folders.ts';
export { csvDataset, parseCsv, type CsvOptions } from './datasets/csv.ts';
export { stratifiedSplit, type Split, type SplitOptions } from './split.ts';
export { loadSample, PIXEL_PIPELINE_VERSION } from './sample.ts';
export { registerTransform } from './transforms/transform.ts';
export { readRegularFile, readRegularFileSync, unreadableReason, UnreadableFileError, MAX_IMAGE_FILE_BYTES, type FileStats } from './regular-file.ts';
export { PixelBudget } from './pixel-budget.ts';
