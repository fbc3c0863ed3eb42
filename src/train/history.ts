/** One epoch of a training run, as graft.json's history and the report's curves keep it. */
export interface EpochRecord { epoch: number; train_loss: number; train_acc: number; val_loss: number; val_acc: number; val_top5?: number; lr: number; seconds: number; phase?: string }
