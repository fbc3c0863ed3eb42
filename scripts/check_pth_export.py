#!/usr/bin/env python3
"""Checks that a .pth written by `graft export --format pytorch` is a torchvision checkpoint.

Loads it with torch.load into torchvision.models.<arch>(num_classes=N) (strict load_state_dict),
runs the committed inputs of test/fixtures/export/golden.json in eval mode and compares the logits
with graft's, committed beside them: the largest difference must stay within 1e-4 of the largest
logit. The golden comes from the model folder test/fixtures/export/model/ (see
scripts/make_export_fixture.ts). Needs torch and torchvision (Debian: apt-get install
python3-torch python3-torchvision libopenblas0-pthread). From the repository root:

    graft export test/fixtures/export/model --format pytorch --out /some/dir/model.pth
    python3 scripts/check_pth_export.py /some/dir/model.pth
"""
from __future__ import annotations

import json
import os
import sys

import torch
import torchvision

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
GOLDEN = os.path.join(ROOT, "test", "fixtures", "export", "golden.json")
TOLERANCE = 1e-4


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} <exported.pth>", file=sys.stderr)
        return 2
    with open(GOLDEN) as f:
        golden = json.load(f)
    model = getattr(torchvision.models, golden["arch"])(num_classes=golden["num_classes"])
    model.load_state_dict(torch.load(argv[1]))
    model.eval()
    torch.set_num_threads(2)
    x = torch.tensor(golden["input"], dtype=torch.float32).reshape(golden["input_shape"])
    with torch.no_grad():
        logits = model(x)
    expected = torch.tensor(golden["logits"], dtype=torch.float32).reshape(logits.shape)
    diff = (logits - expected).abs().max().item()
    scale = expected.abs().max().item()
    verdict = "ok" if diff <= TOLERANCE * scale else "FAILED"
    print(f"{verdict}: torchvision {golden['arch']} on the exported .pth vs graft: max |logit diff| {diff:.3e}, logits up to {scale:.4f} (limit {TOLERANCE * scale:.3e})")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
