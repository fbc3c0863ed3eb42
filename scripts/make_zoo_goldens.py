#!/usr/bin/env python3
"""Golden outputs of the model zoo, for test/models-parity.test.ts.

For every zoo architecture: torchvision.models.<arch>(weights=None), the deterministic state dict
of scripts/deterministic.py loaded into it (seeded by key order, so no real weights are needed),
eval mode, one float32 forward of deterministic_input([2, 3, 64, 64]) on 2 threads ([2, 3, 32, 32]
for the families in SMALL_INPUT and ConvNeXt and EfficientNet; Inception v3's 75, the smallest it
accepts, in INPUT_SHAPES; ViT built with image_size for 2 x 2 patches, 28 to 64, which the golden
records as build_args; MaxViT's maxvit_t at 224, the smallest input whose maps all split into its
7 x 7 partitions, and torchvision's MaxVit class in the small configuration MAXVIT_SMALL
as "maxvit-small", its constructor's arguments in build_args; Swin at 68, see SWIN). Each
test/fixtures/zoo/<arch>.json holds:

    arch, input_shape, keys ([[name, shape], ...] in state-dict order),
    logits (2 x 1000, 7 significant digits), max_abs (largest |logit|),
    torch_version, torchvision_version

and, for a network whose auxiliary classifier never runs in an eval forward (Inception v3's needs
the 299 input), aux: [{module, input_shape, logits, max_abs}] with that submodule's own eval
forward of deterministic_input(input_shape); for Swin, buffers: {key: flat values} of the
first block's computed buffers (scripts/deterministic.py leaves those out of its state dict), and
for some, extra: [{input_shape, logits, max_abs}] on other inputs (EXTRA_INPUTS).

The architectures in KEYS_ONLY are not run: their goldens hold arch, keys and the versions.

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

# The zoo's architectures, listed once, where the catalog is generated.
from make_catalog import ZOO  # noqa: E402
# Too big to run in a test (hundreds of millions of parameters): only their keys and shapes are
# compared, so their goldens hold no logits.
KEYS_ONLY = {"regnet_y_128gf"}
INPUT_SHAPE = [2, 3, 64, 64]
INPUT_SHAPES = {"inception_v3": [2, 3, 75, 75]}
AUX = {"inception_v3": [("AuxLogits", [2, 768, 17, 17])]}
# The smallest input for which every stride-2 layer of these networks (total stride 32) still
# halves a map, ending on 1x1: every layer runs, on a quarter of the pixels of 64 x 64.
SMALL_INPUT = {arch: [2, 3, 32, 32] for arch in [
    "resnext101_32x8d", "resnext101_64x4d", "wide_resnet101_2",
    "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0",
    "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
]}
# ConvNeXt and EfficientNet too: 32x32 reaches 1x1 after their five halvings.
SMALL_PREFIXES = ("convnext_", "efficientnet_")
# ViT is built for one input size (image_size): each at 2 x 2 patches, so the position embeddings,
# the class token and attention across tokens all take part, on a tiny sequence.
VIT_IMAGE_SIZE = {"vit_b_16": 32, "vit_b_32": 64, "vit_l_16": 32, "vit_l_32": 64, "vit_h_14": 28}
BUILD_ARGS = {arch: {"image_size": size} for arch, size in VIT_IMAGE_SIZE.items()}
INPUT_SHAPES.update({arch: [2, 3, size, size] for arch, size in VIT_IMAGE_SIZE.items()})
# MaxViT is built for one input size too: maxvit_t's four stages need maps that divide by 7.
INPUT_SHAPES["maxvit_t"] = [2, 3, 224, 224]
# torchvision's MaxVit class in a small configuration (make_grad_goldens.py trains it too): every
# block's map splits into 3 x 3 windows, and the window and grid partitions differ (a 12 x 12 map
# into 4 x 4 windows of 3 x 3 or a 3 x 3 grid of 4 x 4 cells; 6 x 6 into 2 x 2 or 3 x 3).
MAXVIT_SMALL = {"input_size": [48, 48], "stem_channels": 8, "partition_size": 3, "block_channels": [16, 32],
                "block_layers": [1, 2], "head_dim": 8, "stochastic_depth_prob": 0.2}
# Goldens of networks that are no builder of the zoo: name -> (constructor, its arguments).
CUSTOM = {"maxvit-small": (torchvision.models.maxvit.MaxVit, MAXVIT_SMALL)}
INPUT_SHAPES["maxvit-small"] = [2, 3, 48, 48]
# Their goldens also hold stochastic_depth: [[module, p], ...] for every StochasticDepth module,
# the per-layer probabilities MaxVit spaces with numpy.linspace.
WITH_STOCHASTIC_DEPTH = ("maxvit",)
# Swin and Swin V2 at 68 x 68: maps of 17, 9, 5 and 3 cells, so every patch merging pads an odd
# side, stages 1 and 2 pad to whole windows (7 or 8) and really shift them (with the mask), and
# stages 3 and 4 fit in one window, where the shift is turned off. Their goldens also hold the
# computed buffers of the first block's attention (COMPUTED_BUFFERS), index and offsets table.
SWIN = ("swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b")
INPUT_SHAPES.update({arch: [2, 3, 68, 68] for arch in SWIN})
COMPUTED_BUFFERS = ("features.1.0.attn.relative_position_index", "features.1.0.attn.relative_coords_table")
# And one image wider than high, whose first stage fits in one window in height only: windows
# shift along the width alone, where torchvision's shift mask takes its one-axis form.
EXTRA_INPUTS = {"swin_t": [[1, 3, 28, 100]], "swin_v2_t": [[1, 3, 32, 100]]}


def input_shape(arch: str) -> list[int]:
    if arch in INPUT_SHAPES:
        return INPUT_SHAPES[arch]
    if arch in SMALL_INPUT or arch.startswith(SMALL_PREFIXES):
        return [2, 3, 32, 32]
    return INPUT_SHAPE
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT_DIR = os.path.join(ROOT, "test", "fixtures", "zoo")


def sig7(x: float) -> float:
    return float(f"{x:.7g}")


def golden(arch: str) -> dict:
    t0 = time.perf_counter()
    if arch in CUSTOM:
        build, build_args = CUSTOM[arch]
        model = build(**build_args)
    else:
        build_args = BUILD_ARGS.get(arch, {})
        model = getattr(torchvision.models, arch)(weights=None, **build_args)
    keys = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    versions = {"torch_version": torch.__version__, "torchvision_version": torchvision.__version__}
    if arch in KEYS_ONLY:
        print(f"{arch:20s} keys only ({len(keys)} keys)", flush=True)
        return {"arch": arch, "keys": keys, **versions}
    # With the model's computed buffers, and the module versions a saved state dict records
    # (MNASNet refuses one without them).
    sd = deterministic_state_dict(keys, model)
    # A buffer the network computes from its configuration must come out of the rule unchanged.
    own = model.state_dict()
    for k in sd:
        if k.endswith("relative_position_index"):
            assert torch.equal(sd[k], own[k]), f"{arch}: the deterministic {k} is not torchvision's"
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
    assert y.dtype == torch.float32 and list(y.shape) == [shape[0], 1000], (y.dtype, y.shape)
    max_abs = float(y.abs().max())
    assert torch.isfinite(y).all(), f"{arch}: non-finite logits"
    aux = []
    for name, aux_shape in AUX.get(arch, []):
        with torch.no_grad():
            a = getattr(model, name)(torch.from_numpy(deterministic_input(aux_shape)))
        aux.append({"module": name, "input_shape": aux_shape, "logits": [[sig7(v) for v in row] for row in a.tolist()],
                    "max_abs": sig7(float(a.abs().max()))})
    extra = []
    for extra_shape in EXTRA_INPUTS.get(arch, []):
        with torch.no_grad():
            e = model(torch.from_numpy(deterministic_input(extra_shape)))
        extra.append({"input_shape": extra_shape, "logits": [[sig7(v) for v in row] for row in e.tolist()],
                      "max_abs": sig7(float(e.abs().max()))})
    own = model.state_dict()
    buffers = {k: own[k].reshape(-1).tolist() for k in COMPUTED_BUFFERS if k in own}
    print(f"{arch:20s} max_abs {max_abs:.6g}  setup {t1 - t0:6.2f} s  forward {1000 * (t2 - t1):8.1f} ms",
          flush=True)
    depth = [[name, m.p] for name, m in model.named_modules() if isinstance(m, torchvision.ops.StochasticDepth)]
    return {
        "arch": arch,
        **({"build_args": build_args} if build_args else {}),
        **({"stochastic_depth": depth} if arch.startswith(WITH_STOCHASTIC_DEPTH) else {}),
        "input_shape": shape,
        "keys": keys,
        "logits": [[sig7(v) for v in row] for row in y.tolist()],
        "max_abs": sig7(max_abs),
        **({"aux": aux} if aux else {}),
        **({"buffers": buffers} if buffers else {}),
        **({"extra": extra} if extra else {}),
        **versions,
    }


def main(argv: list[str]) -> int:
    archs = argv or [*ZOO, *CUSTOM]
    unknown = [a for a in archs if a not in ZOO and a not in CUSTOM]
    if unknown:
        sys.exit(f"not in the zoo: {', '.join(unknown)} (zoo: {', '.join([*ZOO, *CUSTOM])})")
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
