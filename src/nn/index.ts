export { Module, StateDictError, type LoadReport } from './module.ts';
export { Parameter, Buffer } from './parameter.ts';
export * from './layers/index.ts';
export * as init from './init.ts';
export { CrossEntropyLoss, BCEWithLogitsLoss, MSELoss } from './losses.ts';
export { scaledDotProductAttention, multiHeadSelfAttention } from './attention.ts';
