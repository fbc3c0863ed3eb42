#!/usr/bin/env python3
"""Fixtures for graft's weights I/O tests (test/fixtures/io), made by PyTorch itself.

    python3 scripts/make_io_fixtures.py            # (re)write the fixtures
    python3 scripts/make_io_fixtures.py --verify F  # torch.load a file graft wrote, compare to expected.json

Writes:
  tiny.pth              torch.save of a small state dict, zip format (PyTorch >= 1.6)
  tiny_legacy.pth       the same, legacy format (_use_new_zipfile_serialization=False)
  wrapped.pth           {"epoch", "best_acc1", "arch", "model": <state dict with "module." keys>}
  tiny.safetensors      the contiguous tensors, written by hand (no safetensors package needed)
  expected.json         every tensor's shape, stored dtype and values
  evil_raw.pth          a bare pickle calling os.system, the classic malicious .pth
  evil_legacy.pth       a legacy header followed by a pickle calling posix.system
  evil_zip.pth          a zip checkpoint whose data.pkl calls os.system

The evil files write pwned-by-pickle.txt in the current folder if anything executes them; the
tests assert that file never appears. This script never loads them.
"""
import argparse
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'io')

DTYPE_NAMES = {
    torch.float32: 'float32', torch.float64: 'float64', torch.float16: 'float16',
    torch.bfloat16: 'bfloat16', torch.int64: 'int64', torch.int32: 'int32', torch.int16: 'int16',
    torch.int8: 'int8', torch.uint8: 'uint8', torch.bool: 'bool',
}
SAFETENSORS_NAMES = {
    torch.float32: 'F32', torch.float64: 'F64', torch.float16: 'F16', torch.bfloat16: 'BF16',
    torch.int64: 'I64', torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8',
    torch.uint8: 'U8', torch.bool: 'BOOL',
}
MARKER = 'pwned-by-pickle.txt'


def tiny_state_dict():
    torch.manual_seed(0)
    sd = collections.OrderedDict()
    sd['conv1.weight'] = torch.randn(4, 3, 3, 3)
    sd['bn1.weight'] = torch.rand(4) + 0.5
    sd['bn1.bias'] = torch.randn(4)
    sd['bn1.running_mean'] = torch.randn(4)
    sd['bn1.running_var'] = torch.rand(4) + 0.1
    sd['bn1.num_batches_tracked'] = torch.tensor(7)
    sd['fc.weight'] = torch.randn(2, 4)
    sd['fc.bias'] = torch.randn(2)
    sd['half.weight'] = torch.randn(3, 2).half()
    sd['extra.bf16'] = torch.tensor([1.0, -2.5, 3.14159, 1e-3]).bfloat16()
    sd['extra.f64'] = torch.tensor([0.1, -1e10, 3.0], dtype=torch.float64)
    sd['extra.i32'] = torch.tensor([-5, 0, 2**31 - 1], dtype=torch.int32)
    sd['extra.i16'] = torch.tensor([-300, 300], dtype=torch.int16)
    sd['extra.i8'] = torch.tensor([-128, 0, 127], dtype=torch.int8)
    sd['extra.u8'] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    sd['extra.bool'] = torch.tensor([True, False, True])
    # Two views of one storage, one at a non-zero offset: saved once, read twice.
    base = torch.arange(12, dtype=torch.float32) * 0.5
    sd['shared.a'] = base[2:8]
    sd['shared.b'] = base.view(3, 4)[2]
    # A transposed view: strides (1, 3), not contiguous.
    sd['transposed'] = torch.arange(6, dtype=torch.float32).view(2, 3).t()
    sd['empty'] = torch.zeros(0, 3)
    return sd


def expected_json(sd):
    out = collections.OrderedDict()
    for key, t in sd.items():
        values = t.reshape(-1)
        values = values.float().tolist() if t.is_floating_point() else values.long().tolist()
        out[key] = {'shape': list(t.shape), 'dtype': DTYPE_NAMES[t.dtype], 'values': values}
    return out


def raw_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def safetensors_bytes(sd, metadata):
    header = collections.OrderedDict()
    if metadata:
        header['__metadata__'] = metadata
    chunks, offset = [], 0
    for key, t in sd.items():
        data = raw_bytes(t)
        header[key] = {'dtype': SAFETENSORS_NAMES[t.dtype], 'shape': list(t.shape),
                       'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    return struct.pack('<Q', len(text)) + text + b''.join(chunks)


class Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned > ' + MARKER,))


def evil_files():
    raw = b"cos\nsystem\n(S'echo pwned > " + MARKER.encode() + b"'\ntR."
    header = io.BytesIO()
    pickle.dump(0x1950a86a20f9469cfc6c, header, protocol=2)
    pickle.dump(1001, header, protocol=2)
    pickle.dump({'protocol_version': 1001, 'little_endian': True,
                 'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, header, protocol=2)
    legacy = header.getvalue() + pickle.dumps(Evil(), protocol=2)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, 'w', zipfile.ZIP_STORED) as z:
        z.writestr('archive/data.pkl', raw)
        z.writestr('archive/version', '3\n')
    return {'evil_raw.pth': raw, 'evil_legacy.pth': legacy, 'evil_zip.pth': archive.getvalue()}


def write(name, data):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)


def make():
    os.makedirs(OUT, exist_ok=True)
    sd = tiny_state_dict()
    torch.save(sd, os.path.join(OUT, 'tiny.pth'))
    torch.save(sd, os.path.join(OUT, 'tiny_legacy.pth'), _use_new_zipfile_serialization=False)
    model = collections.OrderedDict(('module.' + k, v) for k, v in list(sd.items())[:3])
    torch.save({'epoch': 3, 'best_acc1': 71.5, 'arch': 'resnet18', 'model': model},
               os.path.join(OUT, 'wrapped.pth'))
    contiguous = collections.OrderedDict((k, v) for k, v in sd.items() if k != 'transposed')
    write('tiny.safetensors', safetensors_bytes(contiguous, {'format': 'pt'}))
    for name, data in evil_files().items():
        write(name, data)
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        # One line per tensor: readable diffs when a fixture changes.
        lines = [f'  {json.dumps(k)}: {json.dumps(v)}' for k, v in expected_json(sd).items()]
        f.write('{\n' + ',\n'.join(lines) + '\n}\n')
    # The fixtures must read back in PyTorch as they were written.
    for name in ('tiny.pth', 'tiny_legacy.pth'):
        verify(os.path.join(OUT, name))
    print('wrote', sorted(os.listdir(OUT)))


def verify(path):
    """torch.load `path` (e.g. one graft wrote) and compare it to expected.json."""
    with open(os.path.join(OUT, 'expected.json')) as f:
        expected = json.load(f)
    sd = torch.load(path)
    assert list(sd.keys()) == list(expected.keys()), (list(sd.keys()), list(expected.keys()))
    for key, want in expected.items():
        t = sd[key]
        assert DTYPE_NAMES[t.dtype] == want['dtype'], (key, t.dtype, want['dtype'])
        assert list(t.shape) == want['shape'], (key, t.shape, want['shape'])
        values = t.reshape(-1)
        values = values.float().tolist() if t.is_floating_point() else values.long().tolist()
        assert values == want['values'], (key, values, want['values'])
    print(f'{path}: torch.load matches expected.json ({len(expected)} tensors)')


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--verify', metavar='FILE', help='torch.load FILE and compare it to expected.json')
    args = parser.parse_args()
    if args.verify:
        verify(args.verify)
    else:
        make()
    sys.exit(0)
