/** `graft serve` as a library: `serve(models, options)` returns the listening server. */
export { serve, type Server, type ModelToServe } from './server.ts';
export { defaultServeOptions, type ServeOptions } from './options.ts';
