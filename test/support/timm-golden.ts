import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

/** Outputs within this fraction of the largest |output| of the golden. */
export const TIMM_RTOL = 1e-5;

/** What the parity tests read of a golden of scripts/make_timm_goldens.py. */
export interface TimmOutputGolden { case: string; output: number[][]; max_abs: number }

/** graft's flat outputs (one row per image) against timm's, within TIMM_RTOL of the largest; the worst error goes to the test's diagnostics. */
export function assertMatchesTimm(t: TestContext, g: TimmOutputGolden, out: ArrayLike<number>): void {
  const width = g.output[0].length;
  assert.equal(out.length, g.output.length * width);
  let worst = 0;
  for (let i = 0; i < out.length; i++) {
    const err = Math.abs(out[i] - g.output[Math.floor(i / width)][i % width]);
    if (!(err <= worst)) worst = err; // NaN included
  }
  t.diagnostic(`${g.case}: max |graft - timm| = ${(worst / g.max_abs).toExponential(2)} of max |output| ${g.max_abs}`);
  assert.ok(worst <= TIMM_RTOL * g.max_abs, `${g.case}: outputs differ by ${worst}; allowed ${TIMM_RTOL} x ${g.max_abs}`);
}
