#!/usr/bin/env python3
"""Checks that .pth files written by `graft export --format pytorch` are torchvision checkpoints.

Loads each with torch.load into torchvision.models.<arch>(num_classes=N) (strict
load_state_dict), runs its golden's inputs in eval mode and compares the logits with graft's: the
largest difference must stay within 1e-4 of the largest logit. Needs torch and torchvision
(Debian: apt-get install python3-torch python3-torchvision libopenblas0-pthread). From the
repository root:

One file, against the committed fixture's golden test/fixtures/export/golden.json (its model
folder is test/fixtures/export/model/, see scripts/make_export_fixture.ts):

    graft export test/fixtures/export/model --format pytorch --out /some/dir/model.pth
    python3 scripts/check_pth_export.py /some/dir/model.pth

Every convolutional family: a folder of <arch>.pth files, each beside its <arch>.json golden
(scripts/make_family_exports.ts writes both):

    node --import tsx scripts/make_family_exports.ts /some/dir
    python3 scripts/check_pth_export.py /some/dir
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


def check(pth: str, golden_path: str) -> bool:
    with open(golden_path) as f:
        golden = json.load(f)
    model = getattr(torchvision.models, golden["arch"])(weights=None, num_classes=golden["num_classes"])
    model.load_state_dict(torch.load(pth), strict=True)
    model.eval()
    x = torch.tensor(golden["input"], dtype=torch.float32).reshape(golden["input_shape"])
    with torch.no_grad():
        logits = model(x)
    expected = torch.tensor(golden["logits"], dtype=torch.float32).reshape(logits.shape)
    diff = (logits - expected).abs().max().item()
    scale = expected.abs().max().item()
    ok = diff <= TOLERANCE * scale
    print(f"{'ok' if ok else 'FAILED'}: torchvision {golden['arch']} on {os.path.basename(pth)} vs graft, input {golden['input_shape']}: "
          f"max |logit diff| {diff:.3e}, logits up to {scale:.4f} (limit {TOLERANCE * scale:.3e})")
    return ok


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} <exported.pth | folder of <arch>.pth and <arch>.json>", file=sys.stderr)
        return 2
    torch.set_num_threads(2)
    if not os.path.isdir(argv[1]):
        return 0 if check(argv[1], GOLDEN) else 1
    names = sorted(f[:-4] for f in os.listdir(argv[1]) if f.endswith(".pth"))
    if not names:
        print(f"no .pth files in {argv[1]}", file=sys.stderr)
        return 2
    results = [check(os.path.join(argv[1], f"{n}.pth"), os.path.join(argv[1], f"{n}.json")) for n in names]
    print(f"{sum(results)} of {len(results)} exports load into torchvision and match graft")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
