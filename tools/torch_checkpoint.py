#!/usr/bin/env python3
"""Converts PyTorch training checkpoints to vecopt checkpoints and back.

A vecopt checkpoint is a safetensors file (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
size, a JSON header (dtype, shape, data_offsets per tensor; string metadata under "__metadata__"), then the raw
little-endian tensor data. vecopt names its tensors "param/<name>", "state/<name>/<variable>" (PyTorch's state names:
exp_avg, exp_avg_sq, max_exp_avg_sq, momentum_buffer) and "extra/<name>", and records the optimizer, its parameter
groups and their step counts, and a CRC-32C of every tensor, in the metadata (see vecopt.checkpoint.Checkpoint).

PyTorch keeps optimizer state per parameter *index* (the order in which parameters were handed to the optimizer);
this script maps indices to names through the model's parameter names, group by group, so the vecopt file is
matched by name, never by position. The safetensors bytes are written and read here with the standard library only
(the "safetensors" package is not needed); torch is needed only to convert.

  python3 tools/torch_checkpoint.py to-vecopt IN.pt OUT.safetensors
      IN.pt: torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                         "param_names": [[names of group 0], [names of group 1], ...],
                         "optimizer_class": "AdamW" | "Adam" | "SGD"})
      (save_training_checkpoint() below writes one from live objects)
  python3 tools/torch_checkpoint.py to-torch IN.safetensors OUT.pt      the reverse
  python3 tools/torch_checkpoint.py inspect FILE                        header, metadata, checksums verified
  python3 tools/torch_checkpoint.py make-fixture DIR                    the fixtures of vecopt's test suite
  python3 tools/torch_checkpoint.py self-test                           the stdlib reader/writer (no torch)

Debian's python3-torch is enough (apt-get install python3-torch), or pip's CPU wheel.
"""
import json
import os
import struct
import sys

# ---------------------------------------------------------------------------------------------------------------
# safetensors, standard library only
# ---------------------------------------------------------------------------------------------------------------

DTYPE_SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
               "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}
MAX_HEADER_BYTES = 100_000_000  # the reference implementation's limit, as vecopt's reader
CHECKSUM_PREFIX = "checksum:"


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    """CRC-32C (Castagnoli), as java.util.zip.CRC32C computes it. Pure Python: a few MB/s; uses the crc32c or
    google_crc32c package when one is installed."""
    try:
        import crc32c as fast  # type: ignore
        return fast.crc32c(bytes(data), crc)
    except ImportError:
        pass
    crc ^= 0xFFFFFFFF
    table = _CRC_TABLE
    for b in data:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


def checksum(data):
    return "crc32c:%08x" % crc32c(data)


class SafetensorsError(Exception):
    pass


def write_safetensors(path, tensors, metadata, checksums=True):
    """Writes tensors [(name, dtype, shape, data_bytes)] in that order and metadata {str: str} to path, through a
    temporary file in the same directory that is fsynced and atomically renamed, as vecopt writes its files. With
    checksums, a "checksum:<name>" = "crc32c:<hex>" entry per tensor is added to the metadata."""
    meta = dict(metadata)
    header = {}
    at = 0
    for name, dtype, shape, data in tensors:
        n = 1
        for d in shape:
            n *= d
        if n * DTYPE_SIZES[dtype] != len(data):
            raise SafetensorsError("tensor %r: shape %r of %s needs %d bytes, got %d" % (name, shape, dtype,
                                                                                         n * DTYPE_SIZES[dtype],
                                                                                         len(data)))
        if checksums:
            meta[CHECKSUM_PREFIX + name] = checksum(data)
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [at, at + len(data)]}
        at += len(data)
    full = {"__metadata__": meta}
    full.update(header)
    text = json.dumps(full, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts on an 8-byte boundary, as the reference writer pads it
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, _, data in tensors:
            f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_safetensors(path, verify=True):
    """Returns ({name: (dtype, shape, data_bytes)} in header order, metadata), after the checks vecopt makes: header
    size within the file and the limit, JSON object, known dtypes, shape times dtype size equal to the byte range,
    ranges tiling the data exactly; with verify, every "checksum:" entry must match."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise SafetensorsError("%s: truncated: %d bytes, not even the 8-byte header size" % (path, len(blob)))
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER_BYTES:
        raise SafetensorsError("%s: header size %d is over the limit of %d" % (path, n, MAX_HEADER_BYTES))
    if n > len(blob) - 8:
        raise SafetensorsError("%s: truncated inside the header" % path)
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise SafetensorsError("%s: header is not valid JSON: %s" % (path, e))
    if not isinstance(header, dict):
        raise SafetensorsError("%s: header is JSON but not an object" % path)
    meta = header.pop("__metadata__", {}) or {}
    data = blob[8 + n:]
    entries = []
    for name, e in header.items():
        dtype, shape, (begin, end) = e["dtype"], e["shape"], e["data_offsets"]
        if dtype not in DTYPE_SIZES:
            raise SafetensorsError("%s: tensor %r: unknown dtype %r" % (path, name, dtype))
        count = 1
        for d in shape:
            count *= d
        if begin > end or count * DTYPE_SIZES[dtype] != end - begin:
            raise SafetensorsError("%s: tensor %r: shape %r does not fit data_offsets [%d, %d]" % (path, name, shape,
                                                                                                  begin, end))
        entries.append((begin, end, name, dtype, shape))
    at = 0
    for begin, end, name, _, _ in sorted(entries):
        if begin != at:
            raise SafetensorsError("%s: tensor %r: data_offsets overlap or leave a gap at byte %d" % (path, name, at))
        at = end
    if at != len(data):
        raise SafetensorsError("%s: the tensors cover %d bytes of data, the file holds %d (truncated?)"
                               % (path, at, len(data)))
    out = {}
    for begin, end, name, dtype, shape in entries:
        out[name] = (dtype, shape, data[begin:end])
        if verify and (CHECKSUM_PREFIX + name) in meta and meta[CHECKSUM_PREFIX + name] != checksum(data[begin:end]):
            raise SafetensorsError("%s: tensor %r is corrupted: checksum differs" % (path, name))
    return out, meta


def floats_to_bytes(values):
    return struct.pack("<%df" % len(values), *values)


def bytes_to_floats(data):
    return list(struct.unpack("<%df" % (len(data) // 4), data))


# ---------------------------------------------------------------------------------------------------------------
# 8-bit block-quantized state (vecopt's eightBitState(), the codes of vecopt.kernel.BlockCodes; format version 3)
# ---------------------------------------------------------------------------------------------------------------
# A tensor of at least "optimizer.min_8bit_size" elements keeps "state/<name>/exp_avg" as I8 codes of exp_avg and
# "state/<name>/sqrt_exp_avg_sq" as U8 codes of the *square root* of exp_avg_sq, each element divided by its
# block's scale, and "<that name>.scale" (F32, one scale per block of 256 elements counted from the tensor's first
# element). Smaller tensors keep F32 exp_avg and exp_avg_sq. Decoded here as vecopt decodes them, in float32.
EIGHT_BIT_CODES = {"exp_avg": ("exp_avg", "I8"), "exp_avg_sq": ("sqrt_exp_avg_sq", "U8")}
BLOCK = 256


def _f32(x):
    """x rounded to float32 (a float32 operation's result from the exact double one)."""
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return float("inf") if x > 0 else float("-inf")


def decode_signed(code):
    """The value of a signed code (sign, 4 exponent, 3 fraction bits; magnitude k in 1..127 is
    (1 + ((k - 1) & 7) / 8) * 2^(((k - 1) >> 3) - 15), 0 is zero)."""
    k = code & 0x7F
    v = 0.0 if k == 0 else (1 + ((k - 1) & 7) / 8) * 2.0 ** (((k - 1) >> 3) - 15)
    return -v if code & 0x80 else v


def decode_unsigned(code):
    """The value of an unsigned code (k in 1..255 is (1 + ((k - 1) & 15) / 16) * 2^(((k - 1) >> 4) - 15))."""
    k = code & 0xFF
    return 0.0 if k == 0 else (1 + ((k - 1) & 15) / 16) * 2.0 ** (((k - 1) >> 4) - 15)


def decode_eight_bit(variable, codes, scales):
    """The float32 values of 8-bit state `variable` (exp_avg or exp_avg_sq) from its codes (bytes) and block scales:
    code value times scale, squared for exp_avg_sq, each product rounded to float32 as vecopt's step computes it."""
    out = []
    for i, c in enumerate(codes):
        if variable == "exp_avg":
            out.append(_f32(decode_signed(c) * scales[i // BLOCK]))
        else:
            r = _f32(decode_unsigned(c) * scales[i // BLOCK])
            out.append(_f32(r * r))
    return out


# ---------------------------------------------------------------------------------------------------------------
# vecopt checkpoints from and to PyTorch state dicts
# ---------------------------------------------------------------------------------------------------------------

KINDS = {"AdamW": "AdamW", "Adam": "Adam", "SGD": "Sgd", "Adagrad": "Adagrad", "RMSprop": "Rmsprop",
         "Adamax": "Adamax", "NAdam": "NAdam", "RAdam": "RAdam", "Adadelta": "Adadelta", "Rprop": "Rprop",
         "ASGD": "Asgd"}

# The optimizers after AdamW, Adam and SGD: vecopt's state variables (in its buffer order), the scalar state PyTorch
# keeps per tensor and vecopt per group, and the group options under the names vecopt.checkpoint.OptionFields gives.
OTHER_STATE = {"Adagrad": ["sum"], "Adamax": ["exp_avg", "exp_inf"], "NAdam": ["exp_avg", "exp_avg_sq"],
               "RAdam": ["exp_avg", "exp_avg_sq"], "Adadelta": ["square_avg", "acc_delta"],
               "Rprop": ["prev", "step_size"], "Asgd": ["ax"]}
OTHER_SCALARS = {"NAdam": ["mu_product"], "Asgd": ["eta", "mu"]}


def _other_options(kind, g):
    if kind == "Adagrad":
        return {"lr_decay": g["lr_decay"], "weight_decay": g["weight_decay"],
                "initial_accumulator_value": g["initial_accumulator_value"], "eps": g["eps"]}
    if kind == "Rmsprop":
        return {"alpha": g["alpha"], "eps": g["eps"], "weight_decay": g["weight_decay"], "momentum": g["momentum"],
                "centered": bool(g["centered"])}
    if kind == "Adamax":
        return {"beta1": g["betas"][0], "beta2": g["betas"][1], "eps": g["eps"], "weight_decay": g["weight_decay"]}
    if kind in ("NAdam", "RAdam"):
        o = {"beta1": g["betas"][0], "beta2": g["betas"][1], "eps": g["eps"], "weight_decay": g["weight_decay"]}
        if kind == "NAdam":
            o["momentum_decay"] = g["momentum_decay"]
        o["decoupled_weight_decay"] = bool(g.get("decoupled_weight_decay", False))
        return o
    if kind == "Adadelta":
        return {"rho": g["rho"], "eps": g["eps"], "weight_decay": g["weight_decay"]}
    if kind == "Rprop":
        return {"eta_minus": g["etas"][0], "eta_plus": g["etas"][1], "step_size_min": g["step_sizes"][0],
                "step_size_max": g["step_sizes"][1]}
    if kind == "Asgd":
        return {"lambd": g["lambd"], "alpha": g["alpha"], "t0": g["t0"], "weight_decay": g["weight_decay"]}
    raise ValueError("no option mapping for %s" % kind)


def _num(x):
    """A JSON number as Java's Double.toString would accept it (Python's repr of a float round-trips too)."""
    return float(x)


def state_dicts_to_vecopt(path, model_sd, optim_sd, param_names, optimizer_class, step, strings=None,
                          extra_tensors=None):
    """Writes a vecopt checkpoint of model_sd (name -> tensor), optim_sd (optimizer.state_dict()) whose group g holds
    the parameters param_names[g] in order, at trainer step `step`. extra_tensors: {name: tensor} saved as extra/."""
    import torch
    kind = KINDS[optimizer_class]
    groups = optim_sd["param_groups"]
    if len(groups) != len(param_names):
        raise ValueError("%d parameter groups but %d lists of names" % (len(groups), len(param_names)))
    index_to_name = {}
    for g, names in zip(groups, param_names):
        if len(g["params"]) != len(names):
            raise ValueError("a group holds %d parameters but %d names were given" % (len(g["params"]), len(names)))
        for idx, name in zip(g["params"], names):
            index_to_name[idx] = name
    ordered = [n for names in param_names for n in names]
    if kind == "Sgd":
        state_names = ["momentum_buffer"] if any(g["momentum"] != 0 and g["params"] for g in groups) else []
    elif kind == "Rmsprop":
        state_names = ["square_avg"]
        if any(g["momentum"] > 0 and g["params"] for g in groups):
            state_names.append("momentum_buffer")
        if any(g["centered"] and g["params"] for g in groups):
            state_names.append("grad_avg")
    elif kind in OTHER_STATE:
        state_names = OTHER_STATE[kind]
    else:
        state_names = ["exp_avg", "exp_avg_sq"]
        if any(g.get("amsgrad", False) and g["params"] for g in groups):
            state_names.append("max_exp_avg_sq")
    base_lr = groups[0]["lr"]

    def flat(t):
        return floats_to_bytes(t.detach().to(torch.float32).reshape(-1).tolist())

    tensors = []
    shapes = {}
    for name in ordered:
        p = model_sd[name]
        shapes[name] = list(p.shape)
        tensors.append(("param/" + name, "F32", [p.numel()], flat(p)))
    group_meta = []
    for gi, (g, names) in enumerate(zip(groups, param_names)):
        steps = set()
        for idx in g["params"]:
            st = optim_sd["state"].get(idx, {})
            if "step" in st:
                steps.add(int(float(st["step"])))
            elif kind == "Sgd":  # SGD keeps no step: a momentum buffer means the first step is behind it
                steps.add(int(step) if st.get("momentum_buffer") is not None else 0)
        if len(steps) > 1:
            raise ValueError("group %d: its parameters have different step counts %s" % (gi, sorted(steps)))
        g_steps = steps.pop() if steps else 0
        if kind == "Sgd":
            options = {"momentum": _num(g["momentum"]), "dampening": _num(g["dampening"]),
                       "weight_decay": _num(g["weight_decay"]), "nesterov": bool(g["nesterov"]),
                       "lr_scale": _num(g["lr"] / base_lr)}
        elif kind not in ("AdamW", "Adam"):
            options = {k: (v if isinstance(v, bool) else _num(v)) for k, v in _other_options(kind, g).items()}
            options["lr_scale"] = _num(g["lr"] / base_lr)
            options["maximize"] = bool(g.get("maximize", False))
        else:
            options = {"beta1": _num(g["betas"][0]), "beta2": _num(g["betas"][1]), "eps": _num(g["eps"]),
                       "weight_decay": _num(g["weight_decay"]), "amsgrad": bool(g.get("amsgrad", False)),
                       "lr_scale": _num(g["lr"] / base_lr)}
        meta_g = {"name": g.get("name") or ("default" if gi == 0 else "group%d" % gi), "steps": g_steps}
        if kind in OTHER_SCALARS:  # one value per group in vecopt: every tensor of the group must hold the same
            scalars = {}
            for s in OTHER_SCALARS[kind]:
                values = {float(optim_sd["state"][idx][s]) for idx in g["params"] if s in optim_sd["state"].get(idx, {})}
                if len(values) > 1:
                    raise ValueError("group %d: its parameters have different %s %s" % (gi, s, sorted(values)))
                scalars[s] = values.pop() if values else (1.0 if s in ("mu_product", "mu") else 0.0)
            meta_g["state"] = scalars
        meta_g["options"] = options
        meta_g["tensors"] = names
        group_meta.append(meta_g)
    for name in ordered:
        p = model_sd[name]
        idx = [i for i, n in index_to_name.items() if n == name][0]
        st = optim_sd["state"].get(idx, {})
        for s in state_names:
            t = st.get(s)
            tensors.append(("state/%s/%s" % (name, s), "F32", [p.numel()],
                            flat(t) if t is not None else bytes(4 * p.numel())))
    for name, t in (extra_tensors or {}).items():
        tensors.append(("extra/" + name, "F32", [t.numel()], flat(t)))
    opt_steps = max([gm["steps"] for gm in group_meta] + [0])
    meta = {"format": "vecopt-checkpoint", "format_version": "1", "optimizer": kind,
            "optimizer.steps": str(opt_steps), "optimizer.skipped_steps": "0",
            "optimizer.state": json.dumps(state_names, separators=(",", ":")),
            "optimizer.clip_grad_norm": "0.0", "optimizer.on_non_finite": "PROCEED",
            "optimizer.check_params": "false",
            "groups": json.dumps(group_meta, separators=(",", ":"), ensure_ascii=False),
            "trainer.global_step": str(int(step)),
            "user.torch.lr": repr(float(base_lr)),
            "user.torch.shapes": json.dumps(shapes, separators=(",", ":"))}
    for k, v in (strings or {}).items():
        meta["user." + k] = v
    write_safetensors(path, tensors, meta)


def vecopt_to_state_dicts(path):
    """Reads a vecopt checkpoint; returns (model_sd, optim_sd, param_names, optimizer_class, step). Shapes come from
    "user.torch.shapes" when the file was made from PyTorch, else tensors stay flat. 8-bit block-quantized moments
    are decoded into float32 (PyTorch's AdamW keeps float32 state)."""
    import torch
    tensors, meta = read_safetensors(path)
    if meta.get("format") != "vecopt-checkpoint":
        raise SafetensorsError("%s: not a vecopt checkpoint" % path)
    shapes = json.loads(meta.get("user.torch.shapes", "{}"))
    groups = json.loads(meta["groups"])
    state_names = json.loads(meta["optimizer.state"])
    kind = meta["optimizer"]
    if kind not in ("AdamW", "Adam", "Sgd"):
        raise SafetensorsError("%s: to-torch converts AdamW, Adam and Sgd checkpoints; %s is not done yet" % (path, kind))
    lr = float(meta.get("user.torch.lr", "0.001"))

    def tensor(name, shape):
        dtype, _, data = tensors[name]
        if dtype != "F32":
            raise SafetensorsError("tensor %r is %s, expected F32" % (name, dtype))
        return torch.tensor(bytes_to_floats(data), dtype=torch.float32).reshape(shape)

    def state_tensor(name, variable, shape):
        code_name, code_dtype = EIGHT_BIT_CODES.get(variable, (None, None))
        codes = tensors.get("state/%s/%s" % (name, code_name)) if "optimizer.min_8bit_size" in meta else None
        if codes is None or codes[0] != code_dtype:
            return tensor("state/%s/%s" % (name, variable), shape)
        scales = tensors["state/%s/%s.scale" % (name, code_name)]
        values = decode_eight_bit(variable, codes[2], bytes_to_floats(scales[2]))
        return torch.tensor(values, dtype=torch.float32).reshape(shape)

    model_sd, state, param_groups, param_names = {}, {}, [], []
    idx = 0
    for g in groups:
        names = g["tensors"]
        param_names.append(names)
        o = g["options"]
        if kind == "Sgd":
            pg = {"lr": lr * o["lr_scale"], "momentum": o["momentum"], "dampening": o["dampening"],
                  "weight_decay": o["weight_decay"], "nesterov": o["nesterov"], "maximize": False,
                  "foreach": None, "differentiable": False, "fused": None}
        else:
            pg = {"lr": lr * o["lr_scale"], "betas": (o["beta1"], o["beta2"]), "eps": o["eps"],
                  "weight_decay": o["weight_decay"], "amsgrad": o["amsgrad"], "maximize": False, "foreach": None,
                  "capturable": False, "differentiable": False, "fused": None}
        pg["params"] = []
        for name in names:
            shape = shapes.get(name, [tensors["param/" + name][1][0]])
            model_sd[name] = tensor("param/" + name, shape)
            st = {}
            if kind == "Sgd":
                if state_names and g["steps"] > 0:
                    st["momentum_buffer"] = tensor("state/%s/momentum_buffer" % name, shape)
            elif g["steps"] > 0:
                st["step"] = torch.tensor(float(g["steps"]))
                for s in state_names:
                    if s != "max_exp_avg_sq" or o["amsgrad"]:
                        st[s] = state_tensor(name, s, shape)
            if st:
                state[idx] = st
            pg["params"].append(idx)
            idx += 1
        param_groups.append(pg)
    cls = {"AdamW": "AdamW", "Adam": "Adam", "Sgd": "SGD"}[kind]
    return model_sd, {"state": state, "param_groups": param_groups}, param_names, cls, int(meta["trainer.global_step"])


def save_training_checkpoint(path, model, optimizer, step):
    """torch.save()s what to-vecopt reads, from a live model and optimizer: names found by parameter identity."""
    import torch
    name_of = {id(p): n for n, p in model.named_parameters()}
    names = [[name_of[id(p)] for p in g["params"]] for g in optimizer.param_groups]
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                "param_names": names, "optimizer_class": type(optimizer).__name__}, path)


# ---------------------------------------------------------------------------------------------------------------
# the test suite's fixtures
# ---------------------------------------------------------------------------------------------------------------

def make_fixture(directory):
    """Trains a tiny model 3 steps with AdamW (two groups), SGD-momentum, NAdam (L2) and ASGD (averaging from step 4,
    t0 1) in PyTorch on fixed gradients, and
    writes each state as a vecopt checkpoint, with the gradients of step 4, its lr, and PyTorch's parameters and
    state after step 4 as extra tensors, for vecopt's test to compare its own step 4 against."""
    import copy
    import torch
    os.makedirs(directory, exist_ok=True)
    shapes = {"fc1.weight": (4, 3), "fc1.bias": (4,), "fc2.weight": (2, 4), "fc2.bias": (2,)}
    for kind in ("AdamW", "SGD", "NAdam", "ASGD"):
        gen = torch.Generator().manual_seed(1234)
        params = {n: torch.nn.Parameter(torch.randn(s, generator=gen)) for n, s in shapes.items()}
        decay = [params["fc1.weight"], params["fc2.weight"]]
        no_decay = [params["fc1.bias"], params["fc2.bias"]]
        names = [["fc1.weight", "fc2.weight"], ["fc1.bias", "fc2.bias"]]
        if kind == "AdamW":
            lr = 1e-2
            opt = torch.optim.AdamW([{"params": decay, "name": "default"},
                                     {"params": no_decay, "weight_decay": 0.0, "name": "no_decay"}], lr=lr,
                                    betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, foreach=False)
        elif kind == "SGD":
            lr = 0.1
            opt = torch.optim.SGD([{"params": decay, "name": "default"},
                                   {"params": no_decay, "weight_decay": 0.0, "name": "no_decay"}], lr=lr,
                                  momentum=0.9, weight_decay=1e-4, foreach=False)
        elif kind == "NAdam":
            lr = 1e-2
            opt = torch.optim.NAdam([{"params": decay, "name": "default"},
                                     {"params": no_decay, "weight_decay": 0.0, "name": "no_decay"}], lr=lr,
                                    betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, foreach=False)
        else:
            lr = 0.1
            opt = torch.optim.ASGD([{"params": decay, "name": "default"},
                                    {"params": no_decay, "weight_decay": 0.0, "name": "no_decay"}], lr=lr,
                                   lambd=0.05, alpha=0.75, t0=1.0, weight_decay=1e-4, foreach=False)

        def grads():
            for n in shapes:
                params[n].grad = torch.randn(shapes[n], generator=gen) * 0.5

        for _ in range(3):
            grads()
            opt.step()
        model_sd = {n: p.detach().clone() for n, p in params.items()}
        optim_sd = copy.deepcopy(opt.state_dict())
        grads()
        next_grads = {n: params[n].grad.detach().clone() for n in shapes}
        opt.step()
        extras = {}
        for n in shapes:
            extras["torch/next_grad/" + n] = next_grads[n]
            extras["torch/next_param/" + n] = params[n].detach()
            for s, t in opt.state[params[n]].items():
                if s != "step":
                    extras["torch/next_state/%s/%s" % (n, s)] = t
        path = os.path.join(directory, "torch-%s.safetensors" % kind.lower())
        state_dicts_to_vecopt(path, model_sd, optim_sd, names, kind, 3,
                              strings={"torch.version": torch.__version__, "torch.next_lr": repr(lr),
                                       "made_by": "tools/torch_checkpoint.py make-fixture"},
                              extra_tensors=extras)
        if kind in ("AdamW", "SGD"):  # the way back (to-torch converts these): the state it was made from
            back_model, back_optim, back_names, back_cls, back_step = vecopt_to_state_dicts(path)
            assert back_names == names and back_step == 3 and back_cls == kind
            for n in shapes:
                assert torch.equal(back_model[n], model_sd[n]), n
        print("wrote", path)


def self_test():
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "t.safetensors")
        vals = [1.5, -2.0, float("inf"), 0.0]
        write_safetensors(p, [("a \"quoted\" \\ name", "F32", [2, 2], floats_to_bytes(vals)),
                              ("empty", "F32", [0], b"")], {"k": "v \u00e9"})
        tensors, meta = read_safetensors(p)
        assert bytes_to_floats(tensors["a \"quoted\" \\ name"][2]) == vals
        assert tensors["empty"] == ("F32", [0], b"")
        assert meta["k"] == "v \u00e9"
        with open(p, "rb") as f:
            blob = f.read()
        assert (8 + struct.unpack("<Q", blob[:8])[0]) % 8 == 0, "data 8-byte aligned"
        assert crc32c(b"123456789") == 0xE3069283, "CRC-32C check value"
        broken = bytearray(blob)
        broken[-3] ^= 1
        with open(p, "wb") as f:
            f.write(broken)
        try:
            read_safetensors(p)
            raise AssertionError("a flipped byte went unnoticed")
        except SafetensorsError as e:
            assert "corrupted" in str(e)
    # the codes' ends and a hand-computed middle (BlockCodes' Javadoc): signed 1 = 2^-15, 127 = 1.75, 0x80 | 9 =
    # -(1 + 0/8) * 2^(1 - 15); unsigned 255 = 1.875, 17 = 2^-14; with scale 2, exp_avg_sq of code 255 = (3.75)^2
    assert decode_signed(1) == 2.0 ** -15 and decode_signed(127) == 1.75 and decode_signed(0x89) == -(2.0 ** -14)
    assert decode_unsigned(255) == 1.875 and decode_unsigned(17) == 2.0 ** -14 and decode_unsigned(0) == 0.0
    assert decode_eight_bit("exp_avg_sq", bytes([255, 0]), [2.0]) == [3.75 * 3.75, 0.0]
    print("self-test passed")


def inspect(path):
    tensors, meta = read_safetensors(path)
    for k, v in meta.items():
        if not k.startswith(CHECKSUM_PREFIX):
            print("%s = %s" % (k, v if len(v) < 200 else v[:200] + "..."))
    if "optimizer.min_8bit_size" in meta:
        print("8-bit block-quantized moments (tensors of >= %s elements; the others F32): <tensor>/exp_avg I8 ="
              " exp_avg / scale, <tensor>/sqrt_exp_avg_sq U8 = sqrt(exp_avg_sq) / scale, <name>.scale F32 = one scale"
              " per block of %d elements from the tensor's start" % (meta["optimizer.min_8bit_size"], BLOCK))
    for name, (dtype, shape, data) in tensors.items():
        print("%-50s %-5s %-12s %s" % (name, dtype, shape, meta.get(CHECKSUM_PREFIX + name, "(no checksum)")))
    print("%d tensors, all checksums verified" % len(tensors))


def main(argv):
    if len(argv) >= 2 and argv[1] == "self-test":
        self_test()
    elif len(argv) == 3 and argv[1] == "inspect":
        inspect(argv[2])
    elif len(argv) == 3 and argv[1] == "make-fixture":
        make_fixture(argv[2])
    elif len(argv) == 4 and argv[1] == "to-vecopt":
        import torch
        ck = torch.load(argv[2], weights_only=False)
        state_dicts_to_vecopt(argv[3], ck["model"], ck["optimizer"], ck["param_names"], ck["optimizer_class"],
                              ck["step"])
    elif len(argv) == 4 and argv[1] == "to-torch":
        import torch
        model_sd, optim_sd, names, cls, step = vecopt_to_state_dicts(argv[2])
        torch.save({"model": model_sd, "optimizer": optim_sd, "step": step, "param_names": names,
                    "optimizer_class": cls}, argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
