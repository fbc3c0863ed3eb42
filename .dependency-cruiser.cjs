/**
 * The layering of src/ (DESIGN.md), bottom to top. A folder may import its own files and the
 * folders below it, never one above it, and no file may take part in an import cycle.
 */
const LAYERS = ['errors', 'data', 'graph', 'autodiff', 'runtime', 'nn', 'formats', 'models', 'optim', 'train', 'artifacts', 'jobs', 'serve|ui|queue', 'cli'];

const layerRules = LAYERS.map((layer, i) => ({
  name: `layer-${layer.split('|')[0]}`,
  comment: `src/${layer} may use only the folders below it: ${LAYERS.slice(0, i).join(', ') || 'none'}`,
  severity: 'error',
  from: { path: `^src/(${layer})/` },
  to: { path: `^src/(${LAYERS.slice(i + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'an import cycle (type-only imports count too)', severity: 'error', from: { path: '^src/' }, to: { circular: true } },
    ...layerRules,
    {
      name: 'shells-apart',
      comment: 'serve, ui and queue are long-lived shells over jobs and never use one another; the cli starts each of them',
      severity: 'error',
      from: { path: '^src/(serve|ui|queue)/' },
      to: { path: '^src/(serve|ui|queue)/', pathNot: '^src/$1/' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
