/**
 * One epoch of a training run, as graft.json's history and the report's curves keep it. `epoch`
 * counts from 1, the number the CLI, the report and the JSON output all show. `val_top5` is there
 * only with more than five classes, where it can be below 100%.
 */
export interface EpochRecord {
  epoch: number; train_loss: number; train_acc: number; val_loss: number; val_acc: number; val_balanced_acc?: number; val_top5?: number;
  lr: number; seconds: number; phase?: string;
}
