#!/usr/bin/env python3
"""Golden outputs of the model zoo, for test/models-parity.test.ts.

For every zoo architecture: torchvision.models.<arch>(weights=None), the deterministic state dict
of scripts/deterministic.py loaded into it (seeded by key order, so no real weights are needed),
eval mode, one float32 forward of deterministic_input([2, 3, 64, 64]) on 2 threads ([2, 3, 32, 32] for
ConvNeXt and EfficientNet, the smallest they accept). Each
test/fixtures/zoo/<arch>.json holds:

    arch, input_shape, keys ([[name, shape], ...] in state-dict order),
    logits (2 x 1000, 7 significant digits), max_abs (largest |logit|),
    torch_version, torchvision_version

Regenerate all of them, or only some (needs torch and torchvision 0.14; Debian:
apt-get install python3-torch python3-torchvision libopenblas0-pthread), from the repository root:

    python3 scripts/make_zoo_goldens.py                 # every zoo model
    python3 scripts/make_zoo_goldens.py resnet18 vgg11  # only these
"""
from __future__ import annotations

import gc
import json
import os
import sys
import time

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deterministic import deterministic_input, deterministic_state_dict  # noqa: E402

ZOO = [
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "resnext50_32x4d", "wide_resnet50_2",
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
    "convnext_tiny", "convnext_small", "convnext_base", "convnext_large",
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
    "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7",
    "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l",
]
INPUT_SHAPE = [2, 3, 64, 64]
# Families added later take the smallest input they accept: 32x32 reaches 1x1 after their five halvings.
SMALL_INPUT = ("convnext_", "efficientnet_")


def input_shape(arch: str) -> list[int]:
    return [2, 3, 32, 32] if arch.startswith(SMALL_INPUT) else INPUT_SHAPE
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT_DIR = os.path.join(ROOT, "test", "fixtures", "zoo")


def sig7(x: float) -> float:
    return float(f"{x:.7g}")


def golden(arch: str) -> dict:
    t0 = time.perf_counter()
    model = getattr(torchvision.models, arch)(weights=None)
    keys = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    sd = deterministic_state_dict(keys)
    model.load_state_dict(sd, strict=True)
    del sd
    gc.collect()
    model.eval()
    shape = input_shape(arch)
    x = torch.from_numpy(deterministic_input(shape))
    t1 = time.perf_counter()
    with torch.no_grad():
        y = model(x)
    t2 = time.perf_counter()
    assert y.dtype == torch.float32 and list(y.shape) == [2, 1000], (y.dtype, y.shape)
    max_abs = float(y.abs().max())
    assert torch.isfinite(y).all(), f"{arch}: non-finite logits"
    print(f"{arch:20s} max_abs {max_abs:.6g}  setup {t1 - t0:6.2f} s  forward {1000 * (t2 - t1):8.1f} ms",
          flush=True)
    return {
        "arch": arch,
        "input_shape": shape,
        "keys": keys,
        "logits": [[sig7(v) for v in row] for row in y.tolist()],
        "max_abs": sig7(max_abs),
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
    }


def main(argv: list[str]) -> int:
    archs = argv or ZOO
    unknown = [a for a in archs if a not in ZOO]
    if unknown:
        sys.exit(f"not in the zoo: {', '.join(unknown)} (zoo: {', '.join(ZOO)})")
    torch.set_num_threads(2)
    torch.manual_seed(0)  # only the random init that the deterministic state dict overwrites
    os.makedirs(OUT_DIR, exist_ok=True)
    for arch in archs:
        g = golden(arch)
        with open(os.path.join(OUT_DIR, f"{arch}.json"), "w", encoding="utf-8") as fh:
            json.dump(g, fh, separators=(",", ":"), allow_nan=False)
            fh.write("\n")
        del g
        gc.collect()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
