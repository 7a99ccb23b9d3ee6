"""PyTorch reference implementations of the benchmarked models, with the same loss, data and optimizer.

The models mirror what artifex builds for the same config (see ``common.MODELS``), layer for layer:

- ``mlp`` / ``flax_mlp``: dense encoder with ``mean`` and ``log_var`` heads, dense decoder to logits,
  Bernoulli likelihood (BCE from logits, summed per example) + KL, averaged over the batch, with fresh
  Bernoulli pixels each step (dynamic binarization). Log-variances are clipped to [-20, 20] as in artifex.
- ``conv``: artifex's ``CNNEncoder`` (stride-2 3x3 convolutions, global average pooling, dense heads) and
  ``CNNDecoder`` (dense to a 7x7 grid, sub-pixel upsampling: 3x3 conv to 4C channels + pixel shuffle, then a
  3x3 output conv). ``conv_transpose`` is the same VAE with ``ConvTranspose2d`` upsampling instead, the usual
  PyTorch way, reported for comparison.
- ``vq``: MLP VQ-VAE: nearest of K codes for each of ``latent_dim / E`` slices, straight-through gradients,
  codebook + 0.25 x commitment loss, squared error summed per example, code-usage counts and perplexity.

Variants: ``eager`` (``torch.optim.Adam`` default), ``fused`` (``Adam(fused=True)``) and ``compile``
(``torch.compile`` of the loss and of the optimizer step, as in PyTorch's "compiled optimizer" recipe).
The data live in one ``uint8`` tensor; each step gathers its batch with a permutation slice, as artifex does.

Example:
    $ python benchmarks/torch_reference.py --case mlp --variants eager,fused,compile --steps 200
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from common import MODELS, ModelSpec, Result, emit, mnist_train_images, peak_rss_mb, summarize, warm_and_time  # noqa: E402

LOG_VAR_MIN, LOG_VAR_MAX = -20.0, 20.0


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers)


class MLPVAE(nn.Module):
    """784 -> hidden -> (mean, log_var); latent -> reversed hidden -> 784 logits."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        dims = list(spec.hidden_dims)
        self.trunk = _mlp([784, *dims])
        self.mean_head = nn.Linear(dims[-1], spec.latent_dim)
        self.log_var_head = nn.Linear(dims[-1], spec.latent_dim)
        rev = dims[::-1]
        self.dec = nn.Sequential(_mlp([spec.latent_dim, *rev]), nn.Linear(rev[-1], 784))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x.reshape(x.shape[0], -1))
        return self.mean_head(h), self.log_var_head(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z)


class SubPixelUp(nn.Module):
    """2x2 conv ('SAME': padded after) to 4C channels, pixel shuffle (2x), crop to ``target``: artifex's
    ``SubPixelUpsample`` for a 3x3 transposed convolution. The channel order of ``PixelShuffle`` differs
    from artifex's ``depth_to_space``, a relabelling of the conv's outputs that costs nothing."""

    def __init__(self, cin: int, cout: int, target: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, 4 * cout, 2)
        self.shuffle = nn.PixelShuffle(2)
        self.target = target

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.conv(F.pad(x, (0, 1, 0, 1))))[:, :, : self.target, : self.target]


class ConvVAE(nn.Module):
    """artifex's CNN VAE on 28x28x1 (NCHW here); ``transpose=True`` upsamples with ``ConvTranspose2d``."""

    def __init__(self, spec: ModelSpec, transpose: bool = False) -> None:
        super().__init__()
        c1, c2 = spec.hidden_dims
        self.enc = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU()
        )
        self.mean_head = nn.Linear(c2, spec.latent_dim)
        self.log_var_head = nn.Linear(c2, spec.latent_dim)
        d1, d2 = c2, c1  # decoder widths: the encoder's reversed
        self.d1 = d1
        self.proj = nn.Linear(spec.latent_dim, 7 * 7 * d1)
        if transpose:
            up1 = nn.ConvTranspose2d(d1, d1, 3, stride=2, padding=1, output_padding=1)
            up2 = nn.ConvTranspose2d(d1, d2, 3, stride=2, padding=1, output_padding=1)
        else:
            up1, up2 = SubPixelUp(d1, d1, 14), SubPixelUp(d1, d2, 28)
        self.up = nn.Sequential(up1, nn.ReLU(), up2, nn.ReLU())
        self.out = nn.Conv2d(d2, 1, 3, padding=1)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x.reshape(x.shape[0], 1, 28, 28)).mean(dim=(2, 3))
        return self.mean_head(h), self.log_var_head(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.proj(z)).reshape(z.shape[0], self.d1, 7, 7)
        return self.out(self.up(h)).reshape(z.shape[0], 784)


class VQVAE(MLPVAE):
    """MLP VQ-VAE: the encoder's mean is ``z_e``; codebook ``(K, E)`` with uniform init as artifex's."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__(spec)
        k, e = spec.num_embeddings, spec.embedding_dim
        bound = (3.0 / e) ** 0.5
        self.codebook = nn.Parameter(torch.empty(k, e).uniform_(-bound, bound))
        self.register_buffer("code_counts", torch.zeros(k))
        self.register_buffer("perplexity", torch.zeros(()))
        self.e = e


def vae_loss(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Negative ELBO (Bernoulli likelihood from logits), nats per example, averaged over the batch."""
    mean, log_var = model.encode(x)
    log_var = log_var.clamp(LOG_VAR_MIN, LOG_VAR_MAX)
    z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
    logits = model.decode(z)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)
    kl = -0.5 * (1.0 + log_var - mean.square() - log_var.exp()).sum(dim=1)
    return (recon + kl).mean()


def vq_loss(model: VQVAE, x: torch.Tensor) -> torch.Tensor:
    """Squared error + codebook + 0.25 commitment; updates code counts and computes the perplexity."""
    z_e, _ = model.encode(x)
    b = z_e.shape[0]
    flat = z_e.detach().reshape(-1, model.e)
    cb = model.codebook
    dist = flat.square().sum(1, keepdim=True) - 2.0 * flat @ cb.t() + cb.square().sum(1)
    idx = dist.argmin(1)
    codes = cb[idx].reshape(z_e.shape)
    codebook_loss = (z_e.detach() - codes).square().sum(1).mean()
    commitment = (z_e - codes.detach()).square().sum(1).mean()
    quantized = z_e + (codes - z_e).detach()
    recon = (model.decode(quantized) - x).square().sum(1).mean()
    with torch.no_grad():
        # fixed-shape counts and in-place buffer updates: torch.compile traces one graph, no recompiles
        counts = torch.zeros_like(model.code_counts).index_add_(0, idx, torch.ones_like(idx, dtype=torch.float32))
        model.code_counts += counts
        probs = counts / idx.numel()
        model.perplexity.copy_(torch.exp(-(probs * torch.log(probs + 1e-10)).sum()))
    del b
    return recon + codebook_loss + 0.25 * commitment


def make_model(case: str) -> tuple[nn.Module, Any, bool]:
    """The model, its loss function and whether it uses dynamic binarization."""
    spec = MODELS["conv" if case == "conv_transpose" else case]
    if spec.kind == "vq":
        return VQVAE(spec), vq_loss, False
    if spec.kind == "conv":
        return ConvVAE(spec, transpose=case == "conv_transpose"), vae_loss, True
    return MLPVAE(spec), vae_loss, True


def bench(case: str, variant: str, steps: int, repeats: int, batch_size: int, data: torch.Tensor) -> Result:
    """Time ``variant`` training ``case``; the median of ``repeats`` timed runs after warm-up."""
    torch.manual_seed(0)
    model, loss_fn, binarize = make_model(case)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True if variant == "fused" else None)
    n = data.shape[0]
    per_epoch = n // batch_size
    perm = torch.randperm(n)

    def batch_loss(idx: torch.Tensor) -> torch.Tensor:
        x = data[idx].float().mul_(1.0 / 255.0)
        if binarize:
            x = torch.bernoulli(x)
        return loss_fn(model, x)

    def opt_step() -> None:
        opt.step()

    if variant == "compile":
        batch_loss = torch.compile(batch_loss)
        opt_step = torch.compile(opt_step, fullgraph=False)
    counter = {"step": 0}
    last = {}

    def run(k: int) -> None:
        for _ in range(k):
            i = counter["step"] % per_epoch
            idx = perm[i * batch_size : (i + 1) * batch_size]
            opt.zero_grad(set_to_none=True)
            loss = batch_loss(idx)
            loss.backward()
            opt_step()
            counter["step"] += 1
            last["loss"] = loss

    t0 = time.perf_counter()
    run(2)  # the compiled variant compiles here (the optimizer step compiles on its first call)
    compile_s = time.perf_counter() - t0
    rates, calls = warm_and_time(run, steps, 1, repeats)
    return Result(
        "torch", variant, case, batch_size, summarize(rates)["median"], rates, compile_s, peak_rss_mb(),
        final_loss=float(last["loss"].detach()), extra={"steps_per_repeat": calls},
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and run the requested variants, printing one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=[*sorted(MODELS), "conv_transpose"], default="mlp")
    parser.add_argument("--variants", default="eager,fused,compile", help="comma-separated: eager, fused, compile")
    parser.add_argument("--steps", type=int, default=200, help="steps per timed repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args(argv)
    data = torch.from_numpy(mnist_train_images().reshape(-1, 784).copy())
    for variant in [v.strip() for v in args.variants.split(",") if v.strip()]:
        if variant not in ("eager", "fused", "compile"):
            parser.error(f"unknown variant {variant!r}")
        result = bench(args.case, variant, args.steps, args.repeats, args.batch_size, data)
        result.extra["threads"] = torch.get_num_threads()
        emit(result)


if __name__ == "__main__":
    main()
