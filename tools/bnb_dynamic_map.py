#!/usr/bin/env python3
"""Writes bitsandbytes' dynamic quantization maps (the 8-bit optimizers' qmap1 = create_dynamic_map(signed=True) and
qmap2 = create_dynamic_map(signed=False)) as float32 bit patterns, one per line: the fixture
reference/src/main/resources/vecopt/reference/bnb-dynamic-maps.txt and the constants of vecopt.kernel.DynamicMap are checked against
it. create_dynamic_map below is bitsandbytes/functional.py's (bitsandbytes-foundation/bitsandbytes, 2026), run with
PyTorch so that its float32 linspace and arithmetic are PyTorch's own.

    python3 tools/bnb_dynamic_map.py > reference/src/main/resources/vecopt/reference/bnb-dynamic-maps.txt
"""
import struct

import torch


def create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
    data = []
    non_sign_bits = total_bits - 1
    additional_items = 2 ** (non_sign_bits - max_exponent_bits) - 1
    for i in range(max_exponent_bits):
        fraction_items = int(
            2 ** (i + non_sign_bits - max_exponent_bits) + 1
            if signed
            else 2 ** (i + non_sign_bits - max_exponent_bits + 1) + 1,
        )
        boundaries = torch.linspace(0.1, 1, fraction_items, dtype=torch.float32)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    if additional_items > 0:
        boundaries = torch.linspace(0.1, 1, additional_items + 1, dtype=torch.float32)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    data.append(0)
    data.append(1.0)
    assert len(data) == 2**total_bits
    gap = 256 - len(data)
    for i in range(gap):
        data.append(0)
    data.sort()
    return torch.tensor(data, dtype=torch.float32)


def bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


print("# bitsandbytes create_dynamic_map(signed=True) then (signed=False): 256 float32 bit patterns each, ascending;"
      " torch " + torch.__version__)
for signed in (True, False):
    print("signed" if signed else "unsigned")
    for v in create_dynamic_map(signed=signed).tolist():
        print("%08x %s" % (bits(v), repr(v)))
