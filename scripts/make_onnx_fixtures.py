#!/usr/bin/env python3
"""Fixtures for graft's ONNX import tests (test/fixtures/onnx), exported by PyTorch itself.

    python3 scripts/make_onnx_fixtures.py

Writes:
  tiny_convnet_op12.onnx   a small float conv net (conv + batch norm + ReLU6, depthwise conv with a
                           residual add, hardswish, max pool, global average pool, flatten by
                           x.view(x.size(0), -1), linear head), exported at opset 12 with a dynamic
                           batch: its flatten is the Shape/Gather/Unsqueeze/Concat/Reshape chain
                           whose Unsqueeze changed form at opset 13, and its head is a Gemm.
  tiny_convnet_op12.json   the input names, the tensor the head reads, and PyTorch's features
                           (the head's input) for a fixed input, to check graft against PyTorch.

The quantized fixtures are built in TypeScript by the tests (test/fixtures/onnx/models.ts): torch
1.13 cannot export QLinearConv/QLinearAdd graphs without the onnx package.
"""
import json
import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'onnx')


class TinyConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
        self.dw = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.Hardswish())
        self.pool = nn.MaxPool2d(2)
        self.expand = nn.Conv2d(8, 12, 1)
        self.head = nn.Linear(12, 5)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.dw(x)
        x = self.expand(self.pool(x)).relu()
        x = x.mean((2, 3), keepdim=True)
        x = x.view(x.size(0), -1)
        return self.head(x)


def deterministic_(model):
    """Fixed, non-trivial weights and batch-norm statistics from a seeded generator."""
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if t.dtype != torch.float32:
                continue
            if name.endswith('running_var'):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            else:
                t.copy_((torch.rand(t.shape, generator=g) - 0.5) * 1.2)


def main():
    os.makedirs(OUT, exist_ok=True)
    model = TinyConvNet().eval()
    deterministic_(model)
    x = (torch.arange(2 * 3 * 16 * 16, dtype=torch.float32).reshape(2, 3, 16, 16) % 17) / 8 - 1
    path = os.path.join(OUT, 'tiny_convnet_op12.onnx')
    torch.onnx.export(model, x, path, opset_version=12, input_names=['image'], output_names=['logits'],
                      dynamic_axes={'image': {0: 'batch'}, 'logits': {0: 'batch'}}, do_constant_folding=True)
    feats = {}
    model.head.register_forward_hook(lambda m, inp, out: feats.setdefault('x', inp[0]))
    with torch.no_grad():
        logits = model(x)
    with open(os.path.join(OUT, 'tiny_convnet_op12.json'), 'w') as f:
        json.dump({
            'input_shape': list(x.shape),
            'input_rule': '(arange(N*3*16*16) % 17) / 8 - 1, reshaped to [N, 3, 16, 16]',
            'features_shape': list(feats['x'].shape),
            'features': [round(v, 7) for v in feats['x'].flatten().tolist()],
            'logits': [round(v, 7) for v in logits.flatten().tolist()],
        }, f, indent=1)
        f.write('\n')
    print('wrote', path)


if __name__ == '__main__':
    main()
