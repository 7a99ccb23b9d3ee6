"""The built-in metrics as registered: what they apply to (declared contracts), and the IWAE bound against the
test −ELBO, which share the model's ``log_likelihood``."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_core.evaluation import EvalData, LossMetric
from artifex_core import metrics
from artifex_plugins.metrics import ActiveUnits, CodebookUsage, ConditionalSampleAccuracy, DSpritesDisentanglement
from artifex_plugins.metrics import IWAEBound
from artifex_plugins.vae import VAE, ConditionalVAE, VQVAE
from artifex_plugins.vae.decoders import ConditionalDecoder, MLPDecoder
from artifex_plugins.vae.encoders import ConditionalEncoder, MLPEncoder

D, LATENT, N = 12, 2, 400


class TemperedVAE(VAE):
    """A variant that changes its reconstruction term: log p(x|z) counted twice (no normalisation claim)."""

    def log_likelihood(self, x: jax.Array, outputs: dict[str, Any], *, y: Any = None) -> jax.Array:
        return 2.0 * super().log_likelihood(x, outputs, y=y)


def _vae(cls: type = VAE, loss: str = "bce") -> VAE:
    rngs = nnx.Rngs(0)
    return cls(MLPEncoder([16], LATENT, input_dim=(D,), rngs=rngs), MLPDecoder([16], (D,), LATENT, rngs=rngs),
               latent_dim=LATENT, rngs=rngs, reconstruction_loss_type=loss)


def _cvae() -> ConditionalVAE:
    rngs = nnx.Rngs(0)
    enc = ConditionalEncoder(MLPEncoder([16], LATENT, rngs=rngs), num_classes=3, embed_dim=4, rngs=rngs)
    dec = ConditionalDecoder(MLPDecoder([16], (D,), LATENT, rngs=rngs), num_classes=3, embed_dim=4, rngs=rngs)
    cvae = ConditionalVAE(enc, dec, latent_dim=LATENT, condition_dim=3, rngs=rngs)
    cvae(jnp.zeros((1, D)), y=jnp.zeros((1,), jnp.int32))  # builds the lazily sized layers
    return cvae


def _run(model: Any, conditional: bool = False, dataset: str = "npz") -> SimpleNamespace:
    model.eval()
    config = SimpleNamespace(conditional=conditional, latent_dim=LATENT, num_classes=3 if conditional else None)
    return SimpleNamespace(model=model, model_config=config, train_config=SimpleNamespace(dataset=dataset))


def _data(binary: bool, labels: bool = False) -> EvalData:
    rng = np.random.default_rng(0)
    x = rng.random((N, D)).astype(np.float32)
    x[:, : D // 2] *= 0.2  # structure for the latent to explain
    return EvalData((x > 0.5).astype(np.float32) if binary else x, rng.integers(0, 3, N) if labels else None, None)


CASES = {
    "vae-bce": (lambda: _vae(), False, True, "iwae_nll"),
    "vae-mse": (lambda: _vae(loss="mse"), False, False, "iwae_bound"),
    "cvae-mse": (_cvae, True, False, "iwae_bound"),
    "tempered-bce": (lambda: _vae(TemperedVAE), False, True, "iwae_bound"),
}


@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_iwae_bound_is_at_most_the_test_elbo_and_equals_it_at_k_1(case: str) -> None:
    make, conditional, binary, key = CASES[case]
    run, data = _run(make(), conditional), _data(binary, labels=conditional)
    elbo = LossMetric().compute(run, data, seed=0)["loss"]  # beta = 1: the test -ELBO
    k1 = IWAEBound(k=1).compute(run, data, seed=0)
    k64 = IWAEBound(k=64).compute(run, data, seed=0)
    assert set(k64) == {key, "k"} and k64["k"] == 64  # an NLL only for a declared normalised likelihood
    assert k64[key] <= elbo
    assert k64[key] < k1[key]  # more samples, a tighter bound
    # k = 1 is the ELBO (the same reconstruction term), estimated from one sample per example as the test loss
    # is: the two agree within the spread of that one-sample estimate, measured over seeds
    draws = np.array([k1[key]] + [IWAEBound(k=1).compute(run, data, seed=s)[key] for s in range(1, 8)])
    assert abs(draws.mean() - elbo) <= 3 * draws.std() + 0.01 * elbo


def test_log_likelihood_is_the_reconstruction_term_of_loss_fn_and_of_the_bound() -> None:
    base, tempered = _vae(), _vae(TemperedVAE)
    x = jnp.asarray(_data(True).x_test[:32])
    outputs = base(x, rngs=nnx.Rngs(1))
    recon = base.loss_fn(x=x, outputs=outputs)["reconstruction_loss"]
    np.testing.assert_allclose(recon, -jnp.mean(base.log_likelihood(x, outputs)), rtol=1e-6)
    np.testing.assert_allclose(tempered.loss_fn(x=x, outputs=outputs)["reconstruction_loss"], 2 * recon, rtol=1e-6)
    decoded = base.decode_outputs(outputs["z"])
    np.testing.assert_allclose(base.log_likelihood(x, decoded), base.log_likelihood(x, outputs), rtol=1e-6)
    data = EvalData(np.asarray(x), None, None)
    plain = IWAEBound(k=8).compute(_run(base), data, seed=0)["iwae_nll"]
    doubled = IWAEBound(k=8).compute(_run(tempered), data, seed=0)["iwae_bound"]
    assert doubled > plain + 0.5 * recon  # the variant's own term enters the bound
    assert base.normalized_likelihood and not tempered.normalized_likelihood


def test_metrics_apply_by_the_declared_contract() -> None:
    rngs = nnx.Rngs(0)
    vq = VQVAE(MLPEncoder([8], 4, input_dim=(D,), rngs=rngs), MLPDecoder([8], (D,), 4, rngs=rngs), latent_dim=4,
               num_embeddings=8, embedding_dim=2, rngs=rngs)
    gaussian, codebook, cvae = _run(_vae()), _run(vq), _run(_cvae(), conditional=True)
    undeclared = _run(SimpleNamespace(encode=None, code_counts=None, num_embeddings=3, eval=lambda: None))
    assert [m.applies(gaussian) for m in (IWAEBound(), ActiveUnits(), CodebookUsage())] == [True, True, False]
    assert [m.applies(codebook) for m in (IWAEBound(), ActiveUnits(), CodebookUsage())] == [False, False, True]
    assert not any(m.applies(undeclared) for m in (IWAEBound(), ActiveUnits(), CodebookUsage()))
    assert not IWAEBound(k=0).applies(gaussian)
    assert ConditionalSampleAccuracy().applies(cvae) and not ConditionalSampleAccuracy().applies(gaussian)
    assert DSpritesDisentanglement().applies(_run(_vae(), dataset="dsprites"))
    assert not DSpritesDisentanglement().applies(gaussian) and not DSpritesDisentanglement().applies(
        _run(_cvae(), conditional=True, dataset="dsprites")
    )
    usage = CodebookUsage().compute(codebook, _data(False), seed=0)
    assert usage["num_embeddings"] == 8 and 1 <= usage["codes_used"] <= 8 and usage["nmse"] > 0
    units = ActiveUnits().compute(cvae, _data(False, labels=True), seed=0)
    assert 0 <= units["active_units"] <= LATENT and units["latent_dim"] == LATENT


def test_the_builtin_plugin_registers_the_metrics_lazily() -> None:
    entries = {e.name: e for e in metrics.entries()}
    builtin = {name for name, e in entries.items() if e.plugin.name == "builtin"}
    assert builtin == {"test_loss", "elbo", "iwae", "active_units", "vq_usage", "conditional_accuracy", "disentanglement"}
    assert entries["elbo"].target_path == "artifex_plugins.metrics._elbo:ELBO"
    assert entries["test_loss"].target_path == "artifex_core.evaluation._loss:LossMetric"
    assert entries["iwae"].target_path == "artifex_plugins.metrics._likelihood:IWAEBound"


def test_disentanglement_metric_scores_the_encoder_on_rendered_dsprites() -> None:
    rngs = nnx.Rngs(0)
    vae = VAE(MLPEncoder([8], LATENT, input_dim=(64, 64, 1), rngs=rngs), MLPDecoder([8], (64, 64, 1), LATENT, rngs=rngs),
              latent_dim=LATENT, rngs=rngs, reconstruction_loss_type="bce")
    figures = DSpritesDisentanglement(num_examples=300, factor_vae=False).compute(
        _run(vae, dataset="dsprites"), _data(True), seed=0
    )
    assert set(figures) == {"mig", "mig_dlib", "mig_per_factor", "mig_chen", "mig_chen_per_factor", "num_examples"}
    assert figures["num_examples"] == 300 and 0.0 <= figures["mig_chen"] <= 1.0
    assert 0.0 <= figures["mig"] <= 1.0 and set(figures["mig_per_factor"]) == {"shape", "scale", "orientation",
                                                                                "pos_x", "pos_y"}
