#!/usr/bin/env python3
"""PyTorch gradient goldens for the autodiff tests (test/autodiff-*.test.ts).

ops.json: one entry per differential op test. Inputs are deterministic_input(shape, seed) * scale +
offset (scripts/deterministic.py), the loss is sum(op(inputs) * r) with r = deterministic_input
(out_shape, seed 999), and the entry holds the output and the gradient of every input, computed
in float64 from the float32 inputs. The TypeScript side runs the same op (by name) in graft.

<arch>.json for each of MODELS: the deterministic state dict, train mode (batch norm on batch
statistics; dropout and stochastic depth kept in eval mode so both sides are deterministic), input
deterministic_input(shape) (see MODELS: N = 4 for mobilenet_v2 and the EfficientNets, whose batch
norms on 2x2 maps are otherwise too ill-conditioned for float32, S = 96 for efficientnet_v2_s, whose
deepest stage would still drift past float32's noise over the three steps, S = 32 for
convnext_tiny), loss = sum(logits * r),
r = deterministic_input([batch, 1000], 7). For each parameter: sum, sum of |g|, sum of squares,
max |g| and the first 8 values of its gradient. Then three SGD steps (one for shufflenet; lr 0.0001, plain
p -= lr * grad) and every batch norm's running statistics (same summary) and num_batches_tracked.
All in float64, and again in float32 ("float32"): the distance between the two is the floor of
the test's tolerance.

alexnet.json, densenet121.json, googlenet.json, squeezenet1_1.json: the same
with one step, batch 2, a 64 input, except where batch norms on the last maps would see too few
values for float32 (as mobilenet_v2's do): 96 for GoogLeNet. GoogLeNet's loss adds its
two auxiliary classifiers' sum(aux * r) with weight 0.3, as torchvision's reference recipe does.

regnet_y_400mf.json and mnasnet0_5.json: one step; regnet at batch 4 on a 96 input, mnasnet at
batch 8 on a 64 input. With deterministic weights their batch norms in train mode amplify
rounding: at batch 2 (RegNet) or 4 (MNASNet) float32 drifts several times past PyTorch's own
float32 run, which accumulates its batch-norm sums in double on the CPU and so understates the
honest float32 distance.

inception_v3-frozen-bn.json: Inception v3 with every batch norm in inference mode, batch 2 on its
smallest input, 75.

inception_v3-aux.json: Inception v3 in train mode at 299, batch 2, built with its auxiliary
classifier (which needs 299), loss sum(logits * r) + 0.4 * sum(aux_logits * r). At 139 without
the auxiliary classifier graft's float32 scattered past the perturbed runs' scatter; at 299 it
stays inside it.

googlenet.json, inception_v3-aux.json and inception_v3-frozen-bn.json also hold "perturbed": float64 runs on inputs each moved by
up to a relative PERTURBED[arch] (see PERTURBED); their scatter widens the test's tolerance.
vit_b_16.json: the same with one step, batch 2, built with image_size=32 for a 32 input (4 patches
and the class token), every parameter's gradient (no batch norm). swin_t.json and swin_v2_t.json:
the same on a 68 input (padded, shifted windows with the mask in the first two stages).
maxvit-small.json: the same with one step, batch 2, for torchvision's MaxVit class in the small
configuration of make_zoo_goldens.py (MAXVIT_SMALL, a 48 input), every parameter's gradient (the
relative position bias tables included) and its batch norms' running statistics.

Regenerate from the repository root (needs torch and torchvision 0.14):

    python3 scripts/make_grad_goldens.py                     # ops.json and every model
    python3 scripts/make_grad_goldens.py alexnet googlenet   # ops.json and only these models
    python3 scripts/make_grad_goldens.py ops                 # ops.json only
"""
from __future__ import annotations

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torchvision.models.shufflenetv2 import channel_shuffle

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deterministic import deterministic_input, deterministic_state_dict  # noqa: E402
# Networks that are no builder of the zoo, with their constructors and arguments.
from make_zoo_goldens import CUSTOM  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT_DIR = os.path.join(ROOT, "test", "fixtures", "grad")
LOSS_SEED = 999


def inp(shape, seed, scale=1.0, offset=0.0):
    return {"shape": shape, "seed": seed, "scale": scale, "offset": offset}


def bn_inference(x, w, b, mean, var, eps=1e-5):
    # F.batch_norm refuses gradients for the statistics; this is its formula.
    c = lambda t: t.reshape(1, -1, 1, 1)
    return (x - c(mean)) / torch.sqrt(c(var) + eps) * c(w) + c(b)


# name -> (inputs, torch function). The TypeScript test has the same names with graft functions.
OPS = {
    "add_broadcast": ([inp([2, 3, 4], 1), inp([3, 1], 2)], lambda a, b: a + b),
    "sub_broadcast": ([inp([2, 3, 4], 3), inp([4], 4)], lambda a, b: a - b),
    "mul_broadcast": ([inp([2, 3, 4], 5), inp([2, 1, 4], 6)], lambda a, b: a * b),
    "div": ([inp([2, 3], 7), inp([2, 3], 8, 1, 3)], lambda a, b: a / b),
    "div_broadcast": ([inp([2, 3, 4], 9), inp([1, 4], 10, 1, 3)], lambda a, b: a / b),
    "neg": ([inp([2, 5], 11)], lambda x: -x),
    "exp": ([inp([2, 5], 12)], torch.exp),
    "log": ([inp([2, 5], 13, 1, 2.5)], torch.log),
    "sqrt": ([inp([2, 5], 14, 1, 2.5)], torch.sqrt),
    "abs": ([inp([3, 5], 15)], torch.abs),
    "relu": ([inp([3, 5], 16)], torch.relu),
    "relu6": ([inp([4, 5], 17, 4, 2)], F.relu6),
    "clamp": ([inp([3, 5], 18)], lambda x: torch.clamp(x, -1, 1)),
    "sigmoid": ([inp([3, 5], 19)], torch.sigmoid),
    "hardswish": ([inp([4, 5], 20, 3)], F.hardswish),
    "hardsigmoid": ([inp([4, 5], 21, 3)], F.hardsigmoid),
    "conv2d_3x3": ([inp([2, 3, 6, 6], 22), inp([4, 3, 3, 3], 23), inp([4], 24)], lambda x, w, b: F.conv2d(x, w, b, padding=1)),
    "conv2d_stride2": ([inp([2, 3, 7, 7], 25), inp([4, 3, 3, 3], 26)], lambda x, w: F.conv2d(x, w, stride=2, padding=1)),
    "conv2d_stride2_even": ([inp([2, 3, 8, 8], 27), inp([4, 3, 3, 3], 28)], lambda x, w: F.conv2d(x, w, stride=2, padding=1)),
    "conv2d_stride2_nopad": ([inp([1, 2, 8, 7], 29), inp([3, 2, 3, 3], 30)], lambda x, w: F.conv2d(x, w, stride=2)),
    "conv2d_7x7_stride2": ([inp([1, 3, 11, 11], 31), inp([2, 3, 7, 7], 32)], lambda x, w: F.conv2d(x, w, stride=2, padding=3)),
    "conv2d_1x1": ([inp([2, 4, 5, 5], 33), inp([3, 4, 1, 1], 34)], lambda x, w: F.conv2d(x, w)),
    "conv2d_1x1_stride2": ([inp([2, 4, 5, 5], 35), inp([3, 4, 1, 1], 36)], lambda x, w: F.conv2d(x, w, stride=2)),
    "conv2d_dilation2": ([inp([1, 2, 9, 9], 37), inp([3, 2, 3, 3], 38)], lambda x, w: F.conv2d(x, w, padding=2, dilation=2)),
    "conv2d_groups2": ([inp([2, 4, 6, 6], 39), inp([6, 2, 3, 3], 40)], lambda x, w: F.conv2d(x, w, padding=1, groups=2)),
    "conv2d_depthwise": ([inp([2, 4, 6, 6], 41), inp([4, 1, 3, 3], 42)], lambda x, w: F.conv2d(x, w, padding=1, groups=4)),
    "conv2d_depthwise_stride2": ([inp([2, 4, 7, 7], 43), inp([4, 1, 3, 3], 44)], lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=4)),
    "conv2d_depthwise_multiplier": ([inp([1, 2, 5, 5], 45), inp([4, 1, 3, 3], 46)], lambda x, w: F.conv2d(x, w, padding=1, groups=2)),
    "conv2d_rect": ([inp([1, 2, 6, 7], 47), inp([3, 2, 3, 2], 48)], lambda x, w: F.conv2d(x, w, stride=(2, 1), padding=(1, 0))),
    # Even sizes: strided layers whose stride divides the input (no far-end remainder for the input gradient).
    "conv2d_7x7_stride2_even": ([inp([1, 3, 12, 12], 91), inp([2, 3, 7, 7], 92)], lambda x, w: F.conv2d(x, w, stride=2, padding=3)),
    "conv2d_1x1_stride2_even": ([inp([2, 4, 6, 6], 93), inp([3, 4, 1, 1], 94)], lambda x, w: F.conv2d(x, w, stride=2)),
    "conv2d_groups2_stride2_even": ([inp([2, 4, 8, 8], 95), inp([6, 2, 3, 3], 96)], lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=2)),
    "conv2d_depthwise_stride2_even": ([inp([2, 4, 8, 8], 97), inp([4, 1, 3, 3], 98)], lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=4)),
    "conv2d_stride2_nopad_even": ([inp([1, 2, 8, 8], 99), inp([3, 2, 3, 3], 100)], lambda x, w: F.conv2d(x, w, stride=2)),
    "batch_norm_inference": ([inp([2, 3, 4, 4], 49), inp([3], 50), inp([3], 51), inp([3], 52), inp([3], 53, 0.2, 1)],
                             bn_inference),
    "batch_norm_train": ([inp([2, 3, 4, 4], 54, 1, 0.5), inp([3], 55), inp([3], 56)],
                         lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, eps=1e-5)),
    "linear": ([inp([3, 5], 57), inp([4, 5], 58), inp([4], 59)], F.linear),
    "matmul": ([inp([3, 4], 60), inp([4, 2], 61)], torch.matmul),
    "matmul_batched_broadcast": ([inp([2, 3, 4], 62), inp([4, 5], 63)], torch.matmul),
    "max_pool2d_3x3_s2_p1": ([inp([2, 2, 7, 7], 64)], lambda x: F.max_pool2d(x, 3, 2, 1)),
    "max_pool2d_2x2": ([inp([1, 2, 6, 6], 65)], lambda x: F.max_pool2d(x, 2)),
    "max_pool2d_ceil": ([inp([1, 2, 7, 7], 66)], lambda x: F.max_pool2d(x, 2, ceil_mode=True)),
    "relu_max_pool2d": ([inp([2, 2, 7, 7], 67)], lambda x: F.max_pool2d(torch.relu(x), 3, 2, 1)),
    "avg_pool2d_3x3_s2_p1": ([inp([2, 2, 7, 7], 67)], lambda x: F.avg_pool2d(x, 3, 2, 1)),
    "avg_pool2d_no_pad_count": ([inp([2, 2, 7, 7], 68)], lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
    "avg_pool2d_2x2": ([inp([1, 2, 6, 6], 69)], lambda x: F.avg_pool2d(x, 2)),
    "avg_pool2d_ceil": ([inp([1, 2, 7, 7], 70)], lambda x: F.avg_pool2d(x, 2, ceil_mode=True)),
    "global_avg_pool": ([inp([2, 3, 4, 5], 71)], lambda x: F.adaptive_avg_pool2d(x, 1)),
    "reshape": ([inp([2, 3, 4], 72)], lambda x: x.reshape(6, 4)),
    "flatten": ([inp([2, 3, 2, 2], 73)], lambda x: torch.flatten(x, 1)),
    "transpose": ([inp([2, 3, 4], 74)], lambda x: x.transpose(0, 2)),
    "permute": ([inp([2, 3, 4], 75)], lambda x: x.permute(1, 2, 0)),
    "concat": ([inp([2, 3], 76), inp([2, 2], 77), inp([2, 1], 78)], lambda a, b, c: torch.cat([a, b, c], 1)),
    "slice": ([inp([3, 6], 79)], lambda x: x.narrow(1, 2, 3)),
    "expand": ([inp([3, 1], 80)], lambda x: x.expand(2, 3, 4)),
    "sum_all": ([inp([2, 3, 4], 81)], lambda x: x.sum()),
    "sum_axis": ([inp([2, 3, 4], 82)], lambda x: x.sum(1)),
    "sum_keepdim": ([inp([2, 3, 4], 83)], lambda x: x.sum((0, 2), keepdim=True)),
    "mean_axis": ([inp([2, 3, 4], 84)], lambda x: x.mean(-1)),
    "mean_keepdim": ([inp([2, 3, 4], 85)], lambda x: x.mean((1, 2), keepdim=True)),
    "softmax": ([inp([3, 5], 86)], lambda x: torch.softmax(x, 1)),
    "softmax_axis0": ([inp([3, 4, 2], 87)], lambda x: torch.softmax(x, 0)),
    "log_softmax": ([inp([3, 5], 88)], lambda x: torch.log_softmax(x, 1)),
    "cross_entropy_composed": ([inp([4, 5], 89)],
                               lambda x: -(torch.log_softmax(x, 1) * F.one_hot(torch.tensor([0, 3, 1, 4]), 5)).sum(1).mean()),
    "silu": ([inp([3, 5], 90)], F.silu),
    # Grouped convolutions of other shapes than 2 groups: RegNet's and ResNeXt's (several channels
    # in and out per group), more outputs than inputs per group, fewer, 1x1, and strided.
    "conv2d_groups8_stride2_even": ([inp([2, 64, 8, 8], 101), inp([64, 8, 3, 3], 102)], lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=8)),
    "conv2d_groups4_stride2": ([inp([2, 16, 7, 7], 103), inp([16, 4, 3, 3], 104)], lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=4)),
    "conv2d_groups3_widen": ([inp([2, 6, 5, 5], 105), inp([9, 2, 3, 3], 106), inp([9], 107)], lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=3)),
    "conv2d_groups4_narrow": ([inp([1, 8, 5, 5], 108), inp([4, 2, 3, 3], 109)], lambda x, w: F.conv2d(x, w, padding=1, groups=4)),
    "conv2d_groups2_1x1": ([inp([2, 8, 4, 4], 110), inp([6, 4, 1, 1], 111)], lambda x, w: F.conv2d(x, w, groups=2)),
    # The concatenating families: ceil-mode windows hanging over the edge (SqueezeNet, GoogLeNet),
    # adaptive pooling to sizes that do not divide (AlexNet's 6x6, GoogLeNet's auxiliary 4x4),
    # and a concatenation of many inputs (DenseNet).
    "max_pool2d_3x3_s2_ceil_even": ([inp([1, 2, 8, 8], 101)], lambda x: F.max_pool2d(x, 3, 2, ceil_mode=True)),
    "max_pool2d_3x3_s1_p1_ceil": ([inp([1, 2, 5, 5], 102)], lambda x: F.max_pool2d(x, 3, 1, 1, ceil_mode=True)),
    "max_pool2d_2x2_ceil_odd_rect": ([inp([2, 2, 5, 7], 103)], lambda x: F.max_pool2d(x, 2, 2, ceil_mode=True)),
    "adaptive_avg_pool2d_6x6_from_3x3": ([inp([1, 2, 3, 3], 104)], lambda x: F.adaptive_avg_pool2d(x, (6, 6))),
    "adaptive_avg_pool2d_4x4_from_6x7": ([inp([2, 2, 6, 7], 105)], lambda x: F.adaptive_avg_pool2d(x, (4, 4))),
    "concat_many": ([inp([2, c, 2, 2], 106 + c) for c in (3, 1, 2, 2, 4, 1, 2, 3)], lambda *xs: torch.cat(xs, 1)),
    # torchvision's own view-transpose-view, which graft runs as one op.
    "channel_shuffle": ([inp([2, 6, 3, 2], 101)], lambda x: channel_shuffle(x, 2)),
    "channel_shuffle_groups3": ([inp([1, 12, 2, 3], 102)], lambda x: channel_shuffle(x, 3)),
    # Many groups of several channels, as ResNeXt and RegNet have them (stride 1: Conv input
    # gradient; stride 2: ConvTranspose).
    "conv2d_groups32": ([inp([1, 64, 3, 3], 103), inp([32, 2, 3, 3], 104)], lambda x, w: F.conv2d(x, w, padding=1, groups=32)),
    "conv2d_groups16_stride2": ([inp([1, 32, 4, 4], 105), inp([16, 2, 3, 3], 106), inp([16], 107)],
                                lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=16)),
    "gelu": ([inp([3, 5], 101, 3)], F.gelu),
    "erf": ([inp([3, 5], 102)], torch.erf),
    "layer_norm": ([inp([2, 3, 5], 103, 1, 0.5), inp([5], 104), inp([5], 105)], lambda x, w, b: F.layer_norm(x, [5], w, b, 1e-6)),
    "layer_norm_2d": ([inp([2, 4, 3, 3], 106), inp([4], 107), inp([4], 108)],
                      lambda x, w, b: F.layer_norm(x.permute(0, 2, 3, 1), [4], w, b, 1e-6).permute(0, 3, 1, 2)),
    "linear_4d": ([inp([2, 3, 2, 5], 109), inp([4, 5], 110), inp([4], 111)], F.linear),
    "layer_scale": ([inp([2, 3, 2, 2], 112), inp([3, 1, 1], 113)], lambda x, s: s * x),
    # The vision transformers' parts: tanh GELU (timm), batched products of rank 3 and 4 with
    # broadcasting, softmax over the last axis of attention scores, scaled dot-product attention
    # (PyTorch's own), and nn.MultiheadAttention's self-attention from its packed weights (scaled
    # as trained weights are, so the softmax is not saturated and finite differences stay meaningful).
    "tanh": ([inp([3, 5], 114)], torch.tanh),
    "gelu_tanh": ([inp([3, 5], 115, 3)], lambda x: F.gelu(x, approximate="tanh")),
    "matmul_batched_4d": ([inp([2, 3, 4, 5], 116), inp([2, 3, 5, 2], 117)], torch.matmul),
    "matmul_broadcast_4d_3d": ([inp([2, 1, 4, 5], 118), inp([3, 5, 2], 119)], torch.matmul),
    "matmul_batched_3d": ([inp([2, 4, 5], 120), inp([2, 5, 3], 121)], torch.matmul),
    "softmax_last_4d": ([inp([2, 2, 3, 5], 122, 3)], lambda x: torch.softmax(x, -1)),
    "scaled_dot_product_attention": ([inp([2, 2, 3, 4], 123), inp([2, 2, 5, 4], 124), inp([2, 2, 5, 3], 125)],
                                     lambda q, k, v: F._scaled_dot_product_attention(q, k, v, None, 0.0, False, False)[0]),
    # Windowed attention's parts: a table read through a fixed index grid with repeats (the
    # relative position bias; its gradient sums the repeats) and roll over two axes (shifted windows).
    "index_select_repeated": ([inp([5, 3], 131)], lambda t: t[torch.tensor([[4, 0, 2, 0], [1, 1, 3, 4]])]),
    "roll_2d": ([inp([2, 5, 4], 132)], lambda x: torch.roll(x, (-2, 1), (1, 2))),
    # Swin V2's cosine attention: F.normalize (with an all-zero row, a padded token's key, whose
    # gradient is g / eps) and the scores scaled by exp of a log temperature clamped at log(100),
    # here on both sides of the clamp.
    "normalize_zero_row": ([inp([2, 3, 4], 133)], lambda x: F.normalize(x * torch.tensor([[1.0], [0.0], [1.0]], dtype=x.dtype), dim=-1)),
    "cosine_attention_scores": ([inp([1, 4, 3, 5], 134), inp([1, 4, 3, 5], 135), inp([4, 1, 1], 136, 0.5, 4.6)],
                                lambda q, k, s: F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
                                * torch.clamp(s, max=math.log(100.0)).exp()),
    "multi_head_self_attention": ([inp([2, 3, 8], 126), inp([24, 8], 127, 0.35), inp([24], 128), inp([8, 8], 129, 0.35), inp([8], 130)],
                                  lambda x, wi, bi, wo, bo: F.multi_head_attention_forward(
                                      x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1), 8, 2, wi, bi, None, None, False,
                                      0.0, wo, bo, training=False, need_weights=False)[0].transpose(0, 1)),
}


# One network per family, with its input and SGD steps: batch 4 where batch norms on 2x2 maps with
# batch 2 are too ill-conditioned for float32 (mobilenet_v2); one step where the running statistics
# after three drift further apart in float32 than PyTorch's own float32 run shows (shufflenet).
MODELS = [
    ("resnet18", [2, 3, 64, 64], 3), ("mobilenet_v2", [4, 3, 64, 64], 3), ("shufflenet_v2_x0_5", [2, 3, 64, 64], 1),
    # one per concatenating family, one step: the gradients are the point
    ("alexnet", [2, 3, 64, 64], 1), ("densenet121", [2, 3, 64, 64], 1), ("googlenet", [2, 3, 96, 96], 1),
    ("squeezenet1_1", [2, 3, 64, 64], 1),
    ("convnext_tiny", [2, 3, 32, 32], 3), ("efficientnet_b0", [4, 3, 64, 64], 3), ("efficientnet_v2_s", [4, 3, 96, 96], 3),
    ("regnet_y_400mf", [4, 3, 96, 96], 1), ("mnasnet0_5", [8, 3, 64, 64], 1),
    ("inception_v3-frozen-bn", [2, 3, 75, 75], 1),
    # Inception v3 at the size it was built for, with its auxiliary classifier: 8x8 maps at the end
    ("inception_v3-aux", [2, 3, 299, 299], 1),
    # a vision transformer, built for its small input (image_size in BUILD_ARGS): 2 x 2 patches and the class token
    ("vit_b_16", [2, 3, 32, 32], 1),
    # MaxViT's blocks, in torchvision's MaxVit class built small (windows and grids of 3 x 3)
    ("maxvit-small", [2, 3, 48, 48], 1),
    # Swin and Swin V2 at 68 x 68: padded and shifted windows in stages 1 and 2, odd sides at every patch merging
    ("swin_t", [2, 3, 68, 68], 1), ("swin_v2_t", [2, 3, 68, 68], 1),
]
# A name ending so: the network with every batch norm in inference mode (running statistics, as
# a frozen backbone trains), which takes away the batch coupling that makes Inception v3's
# train-mode gradients a matter of rounding (see PERTURBED).
FROZEN_BN = "-frozen-bn"
# A name ending so: the network built with its auxiliary classifier (Inception v3 at 299).
WITH_AUX = "-aux"


def op_golden(name, inputs, fn):
    xs = []
    for spec in inputs:
        a = deterministic_input(spec["shape"], spec["seed"]).astype(np.float64) * spec["scale"] + spec["offset"]
        a = a.astype(np.float32).astype(np.float64)  # the values graft sees
        xs.append(torch.tensor(a, dtype=torch.float64, requires_grad=True))
    out = fn(*xs)
    r = torch.from_numpy(deterministic_input(list(out.shape) or [1], LOSS_SEED).astype(np.float64)).reshape(out.shape)
    (out * r).sum().backward()
    return {
        "name": name,
        "inputs": inputs,
        "out_shape": list(out.shape),
        "out": out.detach().reshape(-1).tolist(),
        "grads": [x.grad.reshape(-1).tolist() for x in xs],
    }


def grad_summary(g: torch.Tensor) -> dict:
    flat = g.detach().reshape(-1)
    return {
        "sum": float(flat.sum()), "sum_abs": float(flat.abs().sum()), "sum_sq": float((flat * flat).sum()),
        "max_abs": float(flat.abs().max()), "first": flat[:8].tolist(),
    }


# Builders' arguments where torchvision's defaults do not fit a small input: Inception v3's
# auxiliary classifier needs the 299 input (WITH_AUX builds it back); ViT is built for the image
# size it is given.
BUILD_ARGS = {"inception_v3": {"aux_logits": False}, "vit_b_16": {"image_size": 32}}
# Networks whose train-mode gradients, with deterministic weights, move by far more than
# float32's rounding when the input moves by that much (GoogLeNet: a relative 1e-6 on the input
# moves backbone gradients by 1e-3 and the loss by 4e-4; two float32 implementations disagree by
# 1e-5 on its middle activations). For these the golden also holds float64 runs on inputs each
# moved by up to PERTURBED[arch] of itself, with the perturbations of PERTURB_SEEDS, and the test's
# tolerance covers their scatter. Inception v3 with frozen batch norm is piecewise linear in its
# input, but a ReLU input within float32's rounding of zero (one in its stem at 75) flips with the
# convolutions' summation order and moves every gradient below it by 1e-3 of its scale.
PERTURBED = {"googlenet": 1e-6, "inception_v3-frozen-bn": 1e-6, "inception_v3-aux": 1e-7}
PERTURB_SEEDS = (101, 102, 103)
# Weight of the auxiliary classifiers' losses (torchvision's reference recipe for GoogLeNet; the
# weight PyTorch's fine-tuning tutorial gives Inception v3's).
AUX_WEIGHT = 0.3
INCEPTION_AUX_WEIGHT = 0.4


def loss_of(out, r):
    if hasattr(out, "aux_logits1"):  # GoogLeNetOutputs in train mode: logits and both auxiliary logits
        return (out.logits * r).sum() + AUX_WEIGHT * ((out.aux_logits1 + out.aux_logits2) * r).sum()
    if hasattr(out, "aux_logits"):  # InceptionOutputs in train mode
        return (out.logits * r).sum() + INCEPTION_AUX_WEIGHT * (out.aux_logits * r).sum()
    return (out * r).sum()


def train_steps(arch: str, input_shape, dtype, steps: int, lr: float, perturb_seed=None, perturbation=0.0, frozen_bn=False, aux=False):
    if arch in CUSTOM:
        build, build_args = CUSTOM[arch]
        model = build(**build_args)
    else:
        build_args = {**BUILD_ARGS.get(arch, {}), **({"aux_logits": True} if aux else {})}
        model = getattr(torchvision.models, arch)(weights=None, **build_args)
    keys = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    # With the model's computed buffers (windowed attention's) and the module versions MNASNet's load requires.
    sd = deterministic_state_dict(keys, model)
    model.load_state_dict(sd, strict=True)
    model.to(dtype).train()
    for m in model.modules():
        if isinstance(m, (torch.nn.Dropout, torchvision.ops.StochasticDepth)) or (frozen_bn and isinstance(m, torch.nn.BatchNorm2d)):
            m.eval()
    x = torch.from_numpy(deterministic_input(input_shape)).to(dtype)
    if perturb_seed is not None:
        # deterministic_input is uniform in [-2, 2): each value moves by up to `perturbation` of itself.
        x = x * (1 + perturbation / 2 * torch.from_numpy(deterministic_input(input_shape, perturb_seed)).to(dtype))
    r = torch.from_numpy(deterministic_input([input_shape[0], 1000], 7)).to(dtype)
    params = dict(model.named_parameters())
    first = None
    losses = []
    for step in range(steps):
        for p in params.values():
            p.grad = None
        loss = loss_of(model(x), r)
        loss.backward()
        losses.append(float(loss))
        if step == 0:
            first = {k: grad_summary(p.grad) for k, p in params.items()}
        with torch.no_grad():
            for p in params.values():
                p -= lr * p.grad
    stats = {}
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            stats[name] = {
                "running_mean": grad_summary(m.running_mean), "running_var": grad_summary(m.running_var),
                "num_batches_tracked": int(m.num_batches_tracked),
            }
    return losses, first, stats


def model_golden(name: str, input_shape, steps=3, lr=1e-4):
    arch = name.removesuffix(FROZEN_BN).removesuffix(WITH_AUX)
    variant = {"frozen_bn": True} if name.endswith(FROZEN_BN) else {"aux": True} if name.endswith(WITH_AUX) else {}
    # float64 is the reference; PyTorch's own float32 run says how far float32 arithmetic can
    # honestly be from it on this network, which the test uses as a floor for its tolerance.
    losses, grads, stats = train_steps(arch, input_shape, torch.float64, steps, lr, **variant)
    losses32, grads32, stats32 = train_steps(arch, input_shape, torch.float32, steps, lr, **variant)
    golden = {"arch": arch, "input_shape": input_shape, "loss_seed": 7, "lr": lr, "steps": steps,
              "losses": losses, "grads": grads, "bn_after_steps": stats,
              "float32": {"losses": losses32, "grads": grads32, "bn_after_steps": stats32}, **variant}
    if name in PERTURBED:
        # float64 again on inputs moved by float32's own disagreement: where these runs scatter,
        # the network amplifies rounding, and any float32 implementation scatters as far.
        golden["perturbation"] = PERTURBED[name]
        golden["perturbed"] = []
        for seed in PERTURB_SEEDS:
            lp, gp, sp = train_steps(arch, input_shape, torch.float64, steps, lr, perturb_seed=seed, perturbation=PERTURBED[name], **variant)
            golden["perturbed"].append({"losses": lp, "grads": gp, "bn_after_steps": sp})
    return golden


def main() -> int:
    torch.set_num_threads(2)
    os.makedirs(OUT_DIR, exist_ok=True)
    ops = [op_golden(name, inputs, fn) for name, (inputs, fn) in OPS.items()]
    meta = {"torch_version": torch.__version__, "torchvision_version": torchvision.__version__, "loss_seed": LOSS_SEED}
    with open(os.path.join(OUT_DIR, "ops.json"), "w", encoding="utf-8") as fh:
        json.dump({**meta, "ops": ops}, fh, separators=(",", ":"))
        fh.write("\n")
    only = set(sys.argv[1:])
    for arch, shape, steps in MODELS:
        if only and arch not in only:
            continue
        g = model_golden(arch, shape, steps)
        with open(os.path.join(OUT_DIR, f"{arch}.json"), "w", encoding="utf-8") as fh:
            json.dump({**meta, **g}, fh, separators=(",", ":"))
            fh.write("\n")
        print(f"{arch}: losses {g['losses']}")
    print(f"wrote {len(ops)} op goldens and {len(only) or len(MODELS)} model goldens to test/fixtures/grad/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
