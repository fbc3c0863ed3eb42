import type { Embeddings } from './embeddings.ts';

/**
 * Backbone features computed elsewhere (a features folder, by `graft embed` on other machines),
 * with what they were computed from, so a run refuses features of another backbone, transform or
 * seed instead of training a head on the wrong inputs.
 */
export interface PrecomputedFeatures {
  /** Where they came from, named in messages. */
  source: string;
  /** backboneDigest of the backbone that computed them. */
  backbone: string;
  /** The transforms' specs, as JSON. */
  transforms: { train: string; val: string };
  pixels: number;
  seed: number;
  train: Embeddings;
  val: Embeddings;
}

export interface FeatureIdentity {
  backbone: string;
  transforms: { train: string; val: string };
  pixels: number;
  seed: number;
  views: number;
  trainImages: number;
  valImages: number;
}

/** Throws naming the first thing that differs between the features and the run that would use them. */
export function checkPrecomputed(p: PrecomputedFeatures, run: FeatureIdentity): void {
  const differs = (what: string, theirs: unknown, ours: unknown) => {
    if (JSON.stringify(theirs) !== JSON.stringify(ours)) {
      throw new RangeError(`The features in ${p.source} were computed with ${what} ${JSON.stringify(theirs)}, but this run uses ${JSON.stringify(ours)}`);
    }
  };
  differs('the backbone weights', p.backbone, run.backbone);
  differs('the pixel pipeline version', p.pixels, run.pixels);
  differs('the seed', p.seed, run.seed);
  differs('the training transform', p.transforms.train, run.transforms.train);
  differs('the validation transform', p.transforms.val, run.transforms.val);
  differs('training views', p.train.views.length, run.views);
  differs('training images', p.train.usable.length, run.trainImages);
  differs('validation images', p.val.usable.length, run.valImages);
}
