import { availableParallelism } from 'node:os';
import type { Tensor } from '../../graph/tensor.ts';
import { WorkerPool } from '../../data/worker-pool.ts';
import { createClassifier } from '../../models/classifier.ts';
import { parseModelSpec } from '../../models/model-spec.ts';
import { preprocessingFor } from '../../models/preprocessing.ts';
import { runStages, splitAtHead } from '../../models/stages.ts';
import type { Preprocessing } from '../../models/catalog.ts';
import { withSeed } from '../../data/generators.ts';
import { evalPreset } from '../../data/transforms/presets.ts';
import type { Transform } from '../../data/transforms/transform.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import { trainTransform, type AugmentLevel } from '../../train/augment.ts';
import { backboneDigest, weightsDigest } from '../../train/backbone-digest.ts';
import { sha256 } from '../../train/feature-cache.ts';
import { loadModel, type LoadedModel } from '../load-model.ts';

/** A frozen backbone as `graft train` builds it, with the transforms its features are computed through. */
export interface Backbone {
  readonly forward: (x: Tensor) => Tensor;
  /** backboneDigest: what `graft train --features` checks the features against. */
  readonly digest: string;
  readonly preprocessing: Preprocessing;
  readonly train: Transform;
  readonly val: Transform;
}

/** What a backbone's features depend on: its network and weights, whatever the augmentation. */
type Network = Pick<Backbone, 'forward' | 'digest' | 'preprocessing'>;

/** A model loaded for predictions, with a digest of its weights, preprocessing and labels. */
export interface Classifier { readonly loaded: LoadedModel; readonly digest: string }

/**
 * The models a process has loaded for shards, each loaded once and kept: a worker takes many
 * shards of the same run, and loading (an ONNX import, weights) costs more than a shard's
 * images. All of them run on the one runtime given.
 */
export class ShardModels {
  private readonly networks = new Map<string, Promise<Network>>();
  private readonly classifiers = new Map<string, Promise<Classifier>>();
  private readonly pools = new Map<string, WorkerPool>();
  /** Feature widths seen, by backbone digest: later shards skip the probe for it. */
  readonly featureWidths = new Map<string, number>();

  constructor(readonly runtime: Runtime) {}

  /** The decoding threads for `transform`, started once and kept for every shard that needs them. */
  decoders(transform: Transform): WorkerPool {
    const key = JSON.stringify(transform.spec());
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new WorkerPool(Math.max(1, Math.min(2, availableParallelism())), transform.spec());
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Stops the decoding threads (the models need nothing released: the runtime owns their sessions). */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.close()));
  }

  /**
   * The backbone of `graft train --model model --weights weights --seed seed`: built the way fit
   * builds it (under the run's seed, so random weights are the same too). Built once for every
   * seed and augmentation where its weights come from a file or a weight variant: its compiled
   * session then serves them all (a worker warmed for a model serves jobs of any seed).
   */
  async backbone(model: string, weights: string | null, seed: number, augment: AugmentLevel): Promise<Backbone> {
    const foreign = parseModelSpec(model).kind !== 'zoo';
    const randomWeights = !foreign && weights === null;
    const key = JSON.stringify([model, weights, randomWeights ? seed : null]);
    let found = this.networks.get(key);
    if (!found) {
      found = this.runtime.run(() => withSeed(seed, async () => {
        const classifier = await createClassifier(model, { weights: foreign ? null : weights, trainableBackbone: false });
        classifier.eval();
        const { backbone } = splitAtHead(classifier.stages());
        return { forward: (x: Tensor) => runStages(backbone, x), digest: backboneDigest(classifier), preprocessing: preprocessingFor(model, weights, classifier) };
      }));
      found.catch(() => this.networks.delete(key));
      this.networks.set(key, found);
    }
    const network = await found;
    return { ...network, train: trainTransform(augment, network.preprocessing), val: evalPreset(network.preprocessing) };
  }

  classifier(model: string, weights: string | null): Promise<Classifier> {
    const key = JSON.stringify([model, weights]);
    let found = this.classifiers.get(key);
    if (!found) {
      found = loadModel(model, { weights, runtime: this.runtime }).then((loaded) => ({
        loaded,
        digest: sha256(JSON.stringify([weightsDigest([loaded.model]), loaded.preprocessing, loaded.labels, loaded.outputs])),
      }));
      found.catch(() => this.classifiers.delete(key));
      this.classifiers.set(key, found);
    }
    return found;
  }
}
