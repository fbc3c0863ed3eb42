"""Runs the reference timing script (refs/pytorch_speed.py beside the repository) for networks
whose head is neither `fc` nor `classifier[-1]`: torchvision's ViT names it `heads.head` and Swin
`head`. Their builder is wrapped to give the model an `fc` alias of that Linear, the module the
script's frozen-head step trains; the forward, the loss and the full step are unchanged (the alias
holds the same parameters, and parameters() lists each once).

usage: /usr/bin/python3 bench/pytorch_speed_heads.py REFS/pytorch_speed.py ARCH [BATCH] [THREADS]
"""
import runpy
import sys

import torchvision

script, arch = sys.argv[1], sys.argv[2]
sys.argv = [script] + sys.argv[2:]
build = getattr(torchvision.models, arch)


def with_head_alias(*args, **kwargs):
    m = build(*args, **kwargs)
    if not hasattr(m, "fc") and not hasattr(m, "classifier"):
        m.fc = m.heads.head if hasattr(m, "heads") else m.head
    return m


setattr(torchvision.models, arch, with_head_alias)
runpy.run_path(script, run_name="__main__")
