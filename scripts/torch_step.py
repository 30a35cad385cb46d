#!/usr/bin/env python3
"""The bench's GPT-2 training step in PyTorch, for the speed ratio on a GPU (docs/perf.md).

Same step as `npm run bench` (src/bench/train-step.ts) and its peers: GPT-2 (Conv1D weights
(in, out), tied LM head, gelu_new), loss = sum of coef * log p(target) over the batch, backward,
clip_grad_norm_(1.0), AdamW (lr 1e-4, betas 0.9/0.999, eps 1e-8, no weight decay), loss read back.
Written as a PyTorch user would: F.scaled_dot_product_attention(is_causal=True), F.layer_norm,
F.gelu(approximate='tanh'), fused AdamW on CUDA. `--dtype bf16` runs the forward under
torch.autocast(bfloat16) with the log-softmax in float32; weights, gradients and Adam stay fp32.

The workload is the bench's own (src/bench/workload.ts): weights benchWeights(config, seed 1)
(normal(0, 0.02), LayerNorm gains 1, biases 0), batch benchBatch(config, B, T, seed 2) (random
tokens, second half the completion), coefficients as the engine draws them (Rng(3), uniform
+-1/(B*T) where a target exists), all from a port of src/util/rng.ts (mulberry32 + Box-Muller),
so `logp_seq0` (sequence 0's completion log-prob sum at the starting weights) is the number
`npm run bench` reports as `train_step[].check.logp_seq0` for the same case.

  python3 scripts/torch_step.py --preset gpt2 --batch 8 --seq 512 [--dtype fp32|bf16] [--steps 10]
  python3 scripts/torch_step.py --dump-workload --preset tiny --batch 2 --seq 8   # no torch needed

Prints one JSON object per dtype (tokens_per_s, ms per step, ...); --json FILE writes them too.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
import time

M32 = 0xFFFFFFFF
IGNORE_TARGET = 0xFFFFFFFF

# src/model/config.ts MODEL_PRESETS (GPT-2 family); eos = bos.
PRESETS = {
    "tiny": dict(vocab=257, n_positions=64, n_embd=32, n_layer=2, n_head=2, eps=1e-5, eos=256),
    "builtin": dict(vocab=257, n_positions=128, n_embd=64, n_layer=2, n_head=4, eps=1e-5, eos=256),
    "gpt2": dict(vocab=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12, eps=1e-5, eos=50256),
}
HP = dict(lr=1e-4, beta1=0.9, beta2=0.999, eps=1e-8, max_grad_norm=1.0)


class Rng:
    """src/util/rng.ts: mulberry32. The state only ever adds 0x6D2B79F5, so draw k is a pure
    function of (seed, k) and blocks of draws are computed vectorised with numpy when present."""

    def __init__(self, seed: int, use_numpy: bool = True):
        self.s = seed & M32
        self.np = None
        if use_numpy:
            try:
                import numpy  # noqa: PLC0415

                self.np = numpy
            except ImportError:
                pass

    @staticmethod
    def _hash(s: int) -> float:
        t = s
        t = ((t ^ (t >> 15)) * (t | 1)) & M32
        t = (t ^ ((t + (((t ^ (t >> 7)) * (t | 61)) & M32)) & M32)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296.0

    def next(self) -> float:
        self.s = (self.s + 0x6D2B79F5) & M32
        return self._hash(self.s)

    def block(self, n: int):
        """The next n draws (a list, or a float64 numpy array)."""
        if self.np is None or n < 64:
            return [self.next() for _ in range(n)]
        np = self.np
        k = np.arange(1, n + 1, dtype=np.uint64)
        s = (np.uint64(self.s) + k * np.uint64(0x6D2B79F5)) & np.uint64(M32)
        self.s = int(s[-1])
        m = np.uint64(M32)
        t = s
        t = ((t ^ (t >> np.uint64(15))) * (t | np.uint64(1))) & m
        t = (t ^ ((t + (((t ^ (t >> np.uint64(7))) * (t | np.uint64(61))) & m)) & m)) & m
        return ((t ^ (t >> np.uint64(14))) & m).astype(np.float64) / 4294967296.0

    def normal(self) -> float:
        u = 0.0
        while u == 0.0:
            u = self.next()
        return math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * self.next())

    def normals(self, n: int):
        """n draws of normal(), in order (two uniforms each; u == 0 is redrawn as the TS code does)."""
        if self.np is None or n < 64:
            return [self.normal() for _ in range(n)]
        np = self.np
        start = self.s
        d = self.block(2 * n)
        u, v = d[0::2], d[1::2]
        if (u == 0.0).any():  # probability ~n/2^32: replay exactly, one at a time
            self.s = start
            return np.array([self.normal() for _ in range(n)])
        return np.sqrt(-2.0 * np.log(u)) * np.cos(2.0 * np.pi * v)

    def int(self, n: int) -> int:
        return math.floor(self.next() * n)

    def uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.next()


def param_spec(c: dict) -> list[tuple[str, tuple[int, ...]]]:
    """src/model/config.ts paramSpec: Hugging Face names and order, Conv1D weights (in, out)."""
    V, P, C, L = c["vocab"], c["n_positions"], c["n_embd"], c["n_layer"]
    spec = [("wte.weight", (V, C)), ("wpe.weight", (P, C))]
    for i in range(L):
        h = f"h.{i}"
        spec += [
            (f"{h}.ln_1.weight", (C,)), (f"{h}.ln_1.bias", (C,)),
            (f"{h}.attn.c_attn.weight", (C, 3 * C)), (f"{h}.attn.c_attn.bias", (3 * C,)),
            (f"{h}.attn.c_proj.weight", (C, C)), (f"{h}.attn.c_proj.bias", (C,)),
            (f"{h}.ln_2.weight", (C,)), (f"{h}.ln_2.bias", (C,)),
            (f"{h}.mlp.c_fc.weight", (C, 4 * C)), (f"{h}.mlp.c_fc.bias", (4 * C,)),
            (f"{h}.mlp.c_proj.weight", (4 * C, C)), (f"{h}.mlp.c_proj.bias", (C,)),
        ]
    return spec + [("ln_f.weight", (C,)), ("ln_f.bias", (C,))]


def bench_weights(c: dict, seed: int, use_numpy: bool = True) -> dict:
    """src/bench/workload.ts benchWeights: flat float lists/arrays by name (float32 values)."""
    rng = Rng(seed, use_numpy)
    out = {}
    for name, shape in param_spec(c):
        n = math.prod(shape)
        if re.search(r"ln_\w+\.weight$", name):
            out[name] = [1.0] * n
        elif name.endswith("bias"):
            out[name] = [0.0] * n
        else:
            w = rng.normals(n)
            out[name] = [0.02 * x for x in w] if isinstance(w, list) else 0.02 * w
    return out


def bench_batch(c: dict, B: int, T: int, seed: int) -> dict:
    """src/bench/workload.ts benchBatch + src/model/batch.ts buildBatch for B full-length sequences."""
    rng = Rng(seed, use_numpy=False)
    tokens, targets, completion = [], [], []
    for _ in range(B):
        ids = [rng.int(c["vocab"]) for _ in range(T)]
        prompt_len = max(1, T >> 1)
        tokens += ids
        targets += [ids[t + 1] if t + 1 < T else IGNORE_TARGET for t in range(T)]
        completion += [1 if t + 1 < T and t + 1 >= prompt_len else 0 for t in range(T)]
    return dict(B=B, T=T, tokens=tokens, targets=targets, completion=completion)


def bench_coefficients(batch: dict, rng: Rng) -> list[float]:
    """src/bench/workload.ts benchCoefficients: uniform(-1, 1)/n where a target exists, else 0."""
    n = batch["B"] * batch["T"]
    return [rng.uniform(-1, 1) / n if tg != IGNORE_TARGET else 0.0 for tg in batch["targets"]]


def dump_workload(args) -> dict:
    """Checksums of the workload, for tests/unit/torch-step-workload.test.ts (no torch needed)."""
    c = PRESETS[args.preset]
    w = bench_weights(c, 1, not args.no_numpy)
    batch = bench_batch(c, args.batch, args.seq, 2)
    coef = bench_coefficients(batch, Rng(3, use_numpy=False))
    return dict(
        weights={name: dict(n=len(v), sum=float(sum(float(x) for x in v)), first=[float(x) for x in v[:3]], last=float(v[-1])) for name, v in w.items()},
        tokens=batch["tokens"],
        targets=[-1 if t == IGNORE_TARGET else t for t in batch["targets"]],
        completion=batch["completion"],
        coef_first=coef[:4],
        coef_sum=sum(coef),
    )


def run_torch(args, dtype: str) -> dict:
    import torch  # noqa: PLC0415
    import torch.nn.functional as F  # noqa: PLC0415

    dev = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    c = PRESETS[args.preset]
    B, T = args.batch, args.seq
    V, C, L, NH, eps = c["vocab"], c["n_embd"], c["n_layer"], c["n_head"], c["eps"]
    HS = C // NH
    if T > c["n_positions"]:
        sys.exit(f"--seq {T} exceeds n_positions {c['n_positions']}")
    t0 = time.perf_counter()
    w = bench_weights(c, 1)
    params = {}
    for name, shape in param_spec(c):
        params[name] = torch.tensor(w[name], dtype=torch.float32).reshape(shape).to(dev).requires_grad_(True)
    del w
    init_s = time.perf_counter() - t0
    batch = bench_batch(c, B, T, 2)
    tokens = torch.tensor(batch["tokens"], dtype=torch.long, device=dev).reshape(B, T)
    targets = torch.tensor([0 if t == IGNORE_TARGET else t for t in batch["targets"]], dtype=torch.long, device=dev)
    completion = torch.tensor(batch["completion"], dtype=torch.float32, device=dev).reshape(B, T)
    coef_rng = Rng(3)
    p = params

    causal = torch.ones(T, T, dtype=torch.bool, device=dev).tril()

    def attention(q, k, v):
        if hasattr(F, "scaled_dot_product_attention"):  # torch >= 2.0: flash / memory-efficient kernels
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(HS)
        return torch.softmax(att.masked_fill(~causal, float("-inf")), dim=-1) @ v

    def forward_logp() -> torch.Tensor:
        """(B*T) log p(target) in float32."""
        x = p["wte.weight"][tokens] + p["wpe.weight"][:T]
        for i in range(L):
            h = f"h.{i}"
            a = F.layer_norm(x, (C,), p[f"{h}.ln_1.weight"], p[f"{h}.ln_1.bias"], eps)
            qkv = a @ p[f"{h}.attn.c_attn.weight"] + p[f"{h}.attn.c_attn.bias"]
            q, k, v = qkv.view(B, T, 3, NH, HS).permute(2, 0, 3, 1, 4)
            y = attention(q, k, v).transpose(1, 2).reshape(B, T, C)
            x = x + (y @ p[f"{h}.attn.c_proj.weight"] + p[f"{h}.attn.c_proj.bias"])
            m = F.layer_norm(x, (C,), p[f"{h}.ln_2.weight"], p[f"{h}.ln_2.bias"], eps)
            m = F.gelu(m @ p[f"{h}.mlp.c_fc.weight"] + p[f"{h}.mlp.c_fc.bias"], approximate="tanh")
            x = x + (m @ p[f"{h}.mlp.c_proj.weight"] + p[f"{h}.mlp.c_proj.bias"])
        x = F.layer_norm(x, (C,), p["ln_f.weight"], p["ln_f.bias"], eps)
        logits = x.reshape(B * T, C) @ p["wte.weight"].t()
        return F.log_softmax(logits.float(), dim=-1).gather(1, targets[:, None])[:, 0]

    use_bf16 = dtype == "bf16"
    fused = dev.type == "cuda" and not args.foreach
    impl = {"fused": True} if fused else {"foreach": True} if args.foreach else {}
    opt = torch.optim.AdamW(list(params.values()), lr=HP["lr"], betas=(HP["beta1"], HP["beta2"]), eps=HP["eps"], weight_decay=0.0, **impl)

    def step() -> tuple[float, float]:
        coef = torch.tensor(bench_coefficients(batch, coef_rng), dtype=torch.float32, device=dev)
        opt.zero_grad(set_to_none=True)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=use_bf16):
            logp = forward_logp()
        loss = (logp * coef).sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), HP["max_grad_norm"])
        opt.step()
        seq0 = (logp.detach().reshape(B, T)[0] * completion[0]).sum()
        return loss.item(), seq0.item()

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    t0 = time.perf_counter()
    loss1, logp_seq0 = step()  # the first step sees the starting weights
    sync()
    first_ms = (time.perf_counter() - t0) * 1000
    for _ in range(args.warmup):
        step()
    sync()
    ms = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()  # .item() waits for the step, as the engine waits for its readback
        sync()
        ms.append((time.perf_counter() - t0) * 1000)
    med = statistics.median(ms)
    return dict(
        framework=f"torch {torch.__version__}",
        device=torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        preset=args.preset, B=B, T=T, tokens=B * T, dtype=dtype,
        optimizer=f"AdamW {next(iter(impl), 'default')}",
        ms=round(med, 3), ms_min=round(min(ms), 3), tokens_per_s=round(B * T * 1000 / med, 1),
        first_step_ms=round(first_ms, 1), init_s=round(init_s, 2), steps=args.steps,
        loss_step1=loss1, logp_seq0=logp_seq0,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="gpt2")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--dtype", choices=["fp32", "bf16", "both"], default="both")
    ap.add_argument("--steps", type=int, default=10, help="timed steps (median reported)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps after the first")
    ap.add_argument("--foreach", action="store_true", help="AdamW foreach instead of fused on CUDA")
    ap.add_argument("--cpu", action="store_true", help="run on the CPU even when CUDA is there")
    ap.add_argument("--json", metavar="FILE", help="also write the results as a JSON list")
    ap.add_argument("--dump-workload", action="store_true", help="print the workload's checksums and exit (no torch)")
    ap.add_argument("--no-numpy", action="store_true", help="draw the workload without numpy (slow; tests)")
    args = ap.parse_args()
    if args.dump_workload:
        print(json.dumps(dump_workload(args)))
        return
    results = []
    for dtype in (["fp32", "bf16"] if args.dtype == "both" else [args.dtype]):
        r = run_torch(args, dtype)
        print(json.dumps(r), flush=True)
        results.append(r)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
