#!/usr/bin/env python3
"""Deterministic weights and inputs for golden tests, bit-for-bit equal to test/support/deterministic.ts.

Real pretrained weights are too big to commit, so golden outputs are produced with weights that
both sides can compute from a state dict's keys and shapes alone:

    hash01(i, seed), uint32 arithmetic:
      h = (i * 0x9E3779B1 + seed * 0x85EBCA77) mod 2^32
      h ^= h >> 15; h = (h * 0x2C1B3C6D) mod 2^32; h ^= h >> 12; h = (h * 0x297A2D39) mod 2^32; h ^= h >> 15
      return h / 2^32                                   # in [0, 1)

    deterministic_state_dict(entries): seed = the entry's index in state-dict order, u = hash01(i, seed)
      *num_batches_tracked -> int64 zeros
      *running_var         -> 0.5 + u
      *running_mean        -> (u - 0.5) * 0.2
      *bias                -> (u - 0.5) * 0.2
      *weight, 1-D         -> 0.5 + u                    (batch-norm scale)
      *weight, >= 2-D      -> (u - 0.5) * 2 * sqrt(3 / fan_in), fan_in = prod(shape[1:])
      *layer_scale         -> 0.5 + u                    (ConvNeXt's per-channel scale)
      *class_token, *cls_token, *reg_token, *pos_embedding, *pos_embed -> (u - 0.5) * 2
      *gamma               -> 0.5 + u                    (timm's LayerScale)
      *relative_position_bias_table -> (u - 0.5) * 2     (windowed attention's learned bias)
      *logit_scale         -> 1 + 2 * u                  (Swin V2's log temperature, well short of its clamp)
      *relative_position_index -> int64, the index torchvision computes for the square s x s window
                              its s^4 entries imply: entry (i, j) of the flattened (s^2, s^2) grid is
                              (i // s - j // s + s - 1) * (2s - 1) + (i % s - j % s + s - 1)
      *relative_coords_table -> left out (the seed still advances): a buffer the module computes
                              from its window; with a model, deterministic_state_dict takes its own
      computed in float64, stored as float32.

    deterministic_input(shape, seed=12345) = (hash01(i, seed) - 0.5) * 4, float32.

Used as a module by scripts/make_zoo_goldens.py. Run as a script, it writes the fixture that
test/models-deterministic.test.ts checks the TypeScript implementation against:

    python3 scripts/deterministic.py test/fixtures/deterministic.json
"""
from __future__ import annotations

import json
import math
import sys
from collections import OrderedDict
from typing import Iterable, Sequence

import numpy as np

M32 = np.uint64(0xFFFFFFFF)
K_I = np.uint64(0x9E3779B1)
K_SEED = 0x85EBCA77
K_1 = np.uint64(0x2C1B3C6D)
K_2 = np.uint64(0x297A2D39)
S15 = np.uint64(15)
S12 = np.uint64(12)
CHUNK = 1 << 22  # elements per vectorized step: bounds temporaries to a few tens of MB


def hash01(i: np.ndarray | int, seed: int) -> np.ndarray:
    """hash01 over an array of flat indices (non-negative, < 2^32), as float64 in [0, 1)."""
    h = np.asarray(i, dtype=np.uint64) * K_I
    h += np.uint64((seed * K_SEED) & 0xFFFFFFFF)
    h &= M32
    h ^= h >> S15
    h *= K_1
    h &= M32
    h ^= h >> S12
    h *= K_2
    h &= M32
    h ^= h >> S15
    return h.astype(np.float64) / 4294967296.0


def _fill(n: int, seed: int, f) -> np.ndarray:
    """float32 array of n values f(u_i), u_i = hash01(i, seed), computed in chunks."""
    out = np.empty(n, dtype=np.float32)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        u = hash01(np.arange(start, stop, dtype=np.uint64), seed)
        out[start:stop] = f(u)  # float64 -> float32, round to nearest even
    return out


# Buffers a module computes from its configuration: no drawn value fits them.
COMPUTED = ("relative_position_index", "relative_coords_table")


def _rule(key: str, shape: Sequence[int]):
    """The value rule for a key: COMPUTED, None for int64 zeros, else a float64 -> float64 function."""
    if key.endswith(COMPUTED):
        return COMPUTED
    if key.endswith("num_batches_tracked"):
        return None
    if key.endswith("running_var"):
        return lambda u: 0.5 + u
    if key.endswith("running_mean") or key.endswith("bias"):
        return lambda u: (u - 0.5) * 0.2
    if key.endswith("weight"):
        if len(shape) == 1:
            return lambda u: 0.5 + u
        if len(shape) >= 2:
            fan_in = math.prod(shape[1:])
            scale = math.sqrt(3 / fan_in)
            return lambda u: (u - 0.5) * 2 * scale
    if key.endswith("layer_scale"):
        return lambda u: 0.5 + u
    # Vision transformers' learned tokens and position embeddings, and timm's LayerScale.
    if key.endswith(("class_token", "cls_token", "reg_token", "pos_embedding", "pos_embed")):
        return lambda u: (u - 0.5) * 2
    if key.endswith("gamma"):
        return lambda u: 0.5 + u
    if key.endswith("relative_position_bias_table"):
        return lambda u: (u - 0.5) * 2
    if key.endswith("logit_scale"):
        return lambda u: 1 + 2 * u
    raise ValueError(f"deterministic_state_dict: no rule for key '{key}' with shape {list(shape)}")


def relative_position_index(shape: Sequence[int]) -> np.ndarray:
    """The relative position index of the square window whose (s^2)^2 entries `shape` holds."""
    n = math.prod(shape)
    s = round(n ** 0.25)
    if s ** 4 != n:
        raise ValueError(f"relative_position_index: {list(shape)} does not hold the (s^2)^2 entries of a square window")
    i, j = np.divmod(np.arange(n, dtype=np.int64), s * s)
    index = (i // s - j // s + s - 1) * (2 * s - 1) + (i % s - j % s + s - 1)
    return index.reshape(list(shape))


def deterministic_arrays(entries: Iterable[tuple[str, Sequence[int]]]):
    """Yields (key, numpy array) in order; float32 arrays, int64 for num_batches_tracked (zeros) and relative_position_index."""
    for seed, (key, shape) in enumerate(entries):
        shape = [int(d) for d in shape]
        n = math.prod(shape)
        if key.endswith("relative_position_index"):
            yield key, relative_position_index(shape)
            continue
        f = _rule(key, shape)
        if f is COMPUTED:
            continue
        if f is None:
            yield key, np.zeros(shape, dtype=np.int64)
        else:
            yield key, _fill(n, seed, f).reshape(shape)


def deterministic_state_dict(entries: Iterable[tuple[str, Sequence[int]]], model=None) -> "OrderedDict":
    """A state dict of torch tensors for model.load_state_dict(); with `model`, its computed buffers too."""
    import torch
    sd = OrderedDict((k, torch.from_numpy(a)) for k, a in deterministic_arrays(entries))
    if model is not None:
        own = model.state_dict()
        sd = OrderedDict((k, sd[k] if k in sd else v) for k, v in own.items() if k in sd or k.endswith(COMPUTED))
        sd._metadata = own._metadata
    return sd


def deterministic_input(shape: Sequence[int], seed: int = 12345) -> np.ndarray:
    n = math.prod(shape)
    return _fill(n, seed, lambda u: (u - 0.5) * 4).reshape(list(shape))


# ---- fixture for the TypeScript test ---------------------------------------------------------

FIXTURE_ENTRIES = [
    ("features.0.weight", [4, 3, 3, 3]),
    ("features.1.weight", [4]),
    ("features.1.bias", [4]),
    ("features.1.running_mean", [4]),
    ("features.1.running_var", [4]),
    ("features.1.num_batches_tracked", []),
    ("fc.weight", [10, 4]),
    ("fc.bias", [10]),
    ("big.0.weight", [64, 512, 7, 7]),
    ("attn.relative_position_bias_table", [9, 2]),
    ("attn.relative_position_index", [4, 4]),
]
HASH_CASES = [(0, 0), (1, 0), (0, 1), (123, 7), (4095, 12345), (102760447, 33), (2147483647, 1000),
              (4294967295, 4294967295), (4294967296 - 12345, 12345)]
INPUT_SHAPE = [2, 3, 64, 64]
INPUT_SAMPLES = [0, 1, 2, 3, 1000, 12287, 12288, 24575]


def f32(x) -> float:
    """A float32 as the float64 that holds it exactly (so JSON round-trips it bit-for-bit)."""
    return float(np.float32(x))


def make_fixture() -> dict:
    hashes = [[i, s, float(hash01(np.uint64(i), s))] for i, s in HASH_CASES]
    tensors = []
    for key, a in deterministic_arrays(FIXTURE_ENTRIES):
        flat = a.reshape(-1)
        n = flat.size
        if n <= 128:
            idx = list(range(n))
        else:
            idx = sorted({0, 1, 2, n // 3, n // 2, n - 2, n - 1})
        vals = [int(flat[j]) if a.dtype == np.int64 else f32(flat[j]) for j in idx]
        tensors.append({"key": key, "shape": list(a.shape), "dtype": str(a.dtype),
                        "indices": idx, "values": vals})
    x = deterministic_input(INPUT_SHAPE).reshape(-1)
    return {
        "description": "values of scripts/deterministic.py, checked against test/support/deterministic.ts",
        "hash01": hashes,
        "stateDict": tensors,
        "input": {"shape": INPUT_SHAPE, "seed": 12345, "indices": INPUT_SAMPLES,
                  "values": [f32(x[j]) for j in INPUT_SAMPLES],
                  "fsum": math.fsum(float(v) for v in x)},
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 scripts/deterministic.py <out.json>")
    with open(sys.argv[1], "w", encoding="utf-8") as fh:
        json.dump(make_fixture(), fh, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {sys.argv[1]}")
