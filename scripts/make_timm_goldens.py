#!/usr/bin/env python3
"""Goldens of timm's Vision Transformers, ConvNeXts and EfficientNets, for
test/models-timm-vit.test.ts (test/fixtures/timm/) and test/models-timm-cnn.test.ts
(test/fixtures/timm-cnn/, the CNN_CASES: the same recipe without position embeddings, the
checkpoint loaded as it is, strict).

For each case in CASES: timm.create_model(<architecture>, pretrained=False) built for the
checkpoint's image size, its state-dict keys (timm's names and order) filled with the deterministic
state dict of scripts/deterministic.py; the config.json timm's push_to_hub writes for it
(save_config_for_hf: architecture, num_classes, num_features, global_pool, pretrained_cfg), its
pretrained_cfg's input_size set to that image size. Then the same architecture built for the
run's image size loads that checkpoint through timm's checkpoint_filter_fn (which resamples the
position embeddings, bicubic and antialiased, when the grids differ) and runs deterministic_input(
[2, 3, S, S]) in eval mode on 2 threads: its pooled features (num_classes 0), or its logits where
the checkpoint has a head. No weights are committed: the test writes the checkpoint again from
the keys. Each test/fixtures/timm/<case>.json holds:

    case, repo, architecture, config, keys ([[name, shape], ...]), checkpoint_image_size,
    image_size, input_shape, output (2 x D, 7 significant digits), max_abs, versions

Regenerate from the repository root with timm importable (installed, or its source folder on
PYTHONPATH; the goldens record the version; needs torch and torchvision 0.14):

    PYTHONPATH=<timm source folder> python3 scripts/make_timm_goldens.py [case ...]

The committed goldens were made that way with timm's source at commit
aa4b5850c1543fa488abf260f18390eda46cf85d of github.com/huggingface/pytorch-image-models
(1.0.29.dev0) on PyTorch 1.13 and torchvision 0.14 (Debian's), not installed, only on PYTHONPATH.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import torch
import timm
from timm.models._hub import save_config_for_hf
from timm.models.vision_transformer import checkpoint_filter_fn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deterministic import deterministic_input, deterministic_state_dict  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT_DIR = os.path.join(ROOT, "test", "fixtures", "timm")
CNN_OUT_DIR = os.path.join(ROOT, "test", "fixtures", "timm-cnn")

# case -> (Hugging Face repo, checkpoint image size, run image size, num_classes). 2 to 4 patches a
# side: the same grid (no resampling), a smaller one (antialiased downsampling) and larger ones.
CASES = {
    "vit_small_patch14_dinov2": ("timm/vit_small_patch14_dinov2.lvd142m", 28, 28, 0),
    "vit_small_patch14_dinov2-resample-down": ("timm/vit_small_patch14_dinov2.lvd142m", 56, 42, 0),
    "vit_base_patch14_dinov2-resample-up": ("timm/vit_base_patch14_dinov2.lvd142m", 42, 56, 0),
    "vit_small_patch14_reg4_dinov2-resample-up": ("timm/vit_small_patch14_reg4_dinov2.lvd142m", 28, 42, 0),
    "vit_base_patch14_reg4_dinov2": ("timm/vit_base_patch14_reg4_dinov2.lvd142m", 28, 28, 0),
    "vit_small_patch16_224-head": ("timm/vit_small_patch16_224.augreg_in21k_ft_in1k", 32, 32, 1000),
}

# The ConvNeXts and EfficientNets: (repo, image size, num_classes). atto has timm's conv_mlp
# blocks (1x1 convolutions, LayerNorm2d), tiny its Linear MLP (channels-last LayerNorm); the
# checkpoint size is the run's (a CNN takes any size; nothing is resampled).
CNN_CASES = {
    "convnext_atto-head": ("timm/convnext_atto.d2_in1k", 64, 1000),
    "convnext_tiny": ("timm/convnext_tiny.fb_in22k", 32, 0),
    "efficientnet_b0-head": ("timm/efficientnet_b0.ra_in1k", 64, 1000),
}


def sig7(x: float) -> float:
    return float(f"{x:.7g}")


def hub_config(model, size: int) -> dict:
    """The config.json timm writes for the hub (save_config_for_hf), its input size set to `size`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.json"
        save_config_for_hf(model, path)
        with open(path, encoding="utf-8") as fh:
            config = json.load(fh)
    config["pretrained_cfg"]["input_size"] = [3, size, size]
    return config


def eval_output(model, case: str, size: int):
    """The input shape and the eval-mode output on deterministic_input([2, 3, size, size])."""
    model.eval()
    shape = [2, 3, size, size]
    with torch.no_grad():
        y = model(torch.from_numpy(deterministic_input(shape)))
    assert torch.isfinite(y).all(), case
    return shape, y


def golden(case: str) -> dict:
    repo, ckpt_size, size, num_classes = CASES[case]
    name = repo.split("/", 1)[1]
    source = timm.create_model(name, pretrained=False, img_size=ckpt_size, num_classes=num_classes)
    keys = [[k, list(v.shape)] for k, v in source.state_dict().items()]
    sd = deterministic_state_dict(keys)
    config = hub_config(source, ckpt_size)
    model = timm.create_model(name, pretrained=False, img_size=size, num_classes=num_classes)
    model.load_state_dict(checkpoint_filter_fn(sd, model), strict=True)
    shape, y = eval_output(model, case, size)
    print(f"{case:45s} {ckpt_size} -> {size}  output {list(y.shape)}  max_abs {float(y.abs().max()):.6g}", flush=True)
    return {
        "case": case, "repo": repo, "architecture": config["architecture"], "config": config, "keys": keys,
        "checkpoint_image_size": ckpt_size, "image_size": size, "input_shape": shape,
        "output": [[sig7(v) for v in row] for row in y.tolist()], "max_abs": sig7(float(y.abs().max())),
        "torch_version": torch.__version__, "timm_version": timm.__version__,
    }


def cnn_golden(case: str) -> dict:
    repo, size, num_classes = CNN_CASES[case]
    name = repo.split("/", 1)[1]
    model = timm.create_model(name, pretrained=False, num_classes=num_classes)
    keys = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    config = hub_config(model, size)
    model.load_state_dict(deterministic_state_dict(keys), strict=True)
    shape, y = eval_output(model, case, size)
    print(f"{case:45s} {size}  output {list(y.shape)}  max_abs {float(y.abs().max()):.6g}", flush=True)
    return {
        "case": case, "repo": repo, "architecture": config["architecture"], "config": config, "keys": keys,
        "image_size": size, "input_shape": shape,
        "output": [[sig7(v) for v in row] for row in y.tolist()], "max_abs": sig7(float(y.abs().max())),
        "torch_version": torch.__version__, "timm_version": timm.__version__,
    }


def main(argv: list[str]) -> int:
    cases = argv or [*CASES, *CNN_CASES]
    torch.set_num_threads(2)
    torch.manual_seed(0)  # only the random init that the deterministic state dict overwrites
    for case in cases:
        out_dir, make = (CNN_OUT_DIR, cnn_golden) if case in CNN_CASES else (OUT_DIR, golden)
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, f"{case}.json"), "w", encoding="utf-8") as fh:
            json.dump(make(case), fh, separators=(",", ":"), allow_nan=False)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
