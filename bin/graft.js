#!/usr/bin/env node
// The published entry point runs the compiled CLI (built by `npm run build`, also on install).
import('../dist/cli/main.js');
