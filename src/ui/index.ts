/** `graft ui` as a library: `startUi(options)` returns the listening web app's server. */
export { startUi, type UiServer } from './server.ts';
export { defaultUiOptions, BUNDLED_BACKBONE, type UiOptions, type StartedModelServer } from './options.ts';
export type * from './api.ts';
