"""Inputs are checked where they enter the models (issue #10, "Reliability").

Defects found by a user probe, each pinned here:

* the conditional model silently used class 0 without ``y``;
* out-of-range labels: eagerly the model's message did not name the index; under ``jit`` label -1 became
  the last class (``nnx.Embed`` wraps negative ids) and labels >= num_classes gave NaN only by accident;
* an empty batch gave ``ZeroDivisionError`` and ``sample(-1)`` an ``MLIRError``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_plugins.vae import VAE, BetaVAE, BetaVAEWithCapacity, ConditionalVAE, VQVAE
from artifex_plugins.vae.base import draw_key
from artifex_plugins.vae.decoders import ConditionalDecoder, MLPDecoder
from artifex_plugins.vae.encoders import ConditionalEncoder, MLPEncoder
from artifex_plugins.vae import LabelEmbedding

C, L = 3, 4
FLAT = (6,)


def _pair(rngs: nnx.Rngs) -> tuple[MLPEncoder, MLPDecoder]:
    return MLPEncoder([8], L, input_dim=FLAT, rngs=rngs), MLPDecoder([8], FLAT, L, rngs=rngs)


def _cvae(rngs: nnx.Rngs) -> ConditionalVAE:
    enc, dec = _pair(rngs)
    return ConditionalVAE(
        ConditionalEncoder(enc, num_classes=C, embed_dim=4, rngs=rngs),
        ConditionalDecoder(dec, num_classes=C, embed_dim=4, rngs=rngs),
        latent_dim=L,
        condition_dim=C,
        rngs=rngs,
    )


BUILDERS: dict[str, Callable[[nnx.Rngs], VAE]] = {
    "VAE": lambda r: VAE(*_pair(r), latent_dim=L, rngs=r),
    "BetaVAE": lambda r: BetaVAE(*_pair(r), latent_dim=L, beta_default=2.0, beta_warmup_steps=10, rngs=r),
    "BetaVAEWithCapacity": lambda r: BetaVAEWithCapacity(
        *_pair(r), latent_dim=L, use_capacity_control=True, capacity_num_iter=10, rngs=r
    ),
    "VQVAE": lambda r: VQVAE(*_pair(r), latent_dim=L, num_embeddings=4, embedding_dim=2, rngs=r),
    "ConditionalVAE": _cvae,
}


@pytest.fixture(scope="module")
def cvae() -> ConditionalVAE:
    return _cvae(nnx.Rngs(0))


def x_of(n: int = 4) -> jax.Array:
    return jax.random.uniform(jax.random.key(1), (n, *FLAT))


# -- y is required ------------------------------------------------------------------------------------------

Z = jnp.zeros((2, L))
WITHOUT_Y = {
    "__call__": lambda m: m(x_of()),
    "encode": lambda m: m.encode(x_of()),
    "decode": lambda m: m.decode(Z),
    "reconstruct": lambda m: m.reconstruct(x_of()),
    "loss_fn(x=)": lambda m: m.loss_fn(x=x_of()),
    "loss_fn(batch=)": lambda m: m.loss_fn(batch={"x": x_of()}),
    "loss_fn(outputs=)": lambda m: m.loss_fn(x=x_of(), outputs=m(x_of(), y=0)),
    "interpolate": lambda m: m.interpolate(x_of()[0], x_of()[1], 3),
    "latent_traversal": lambda m: m.latent_traversal(x_of()[0], 0, steps=3),
}


@pytest.mark.parametrize("call", WITHOUT_Y.values(), ids=WITHOUT_Y.keys())
def test_conditional_methods_require_y(cvae: ConditionalVAE, call: Callable) -> None:
    # was: label 0 for every example, silently
    with pytest.raises(ValueError, match=r"y is required: pass y= as integer labels \(B,\).*one-hot rows \(B, 3\)"):
        call(cvae)


def test_sample_without_y_draws_uniform_classes_from_the_rng_stream(cvae: ConditionalVAE) -> None:
    n = 32
    got = cvae.sample(n, rngs=nnx.Rngs(5))
    replay = nnx.Rngs(5)
    draw_key(replay)  # the latent draw
    labels = jax.random.randint(draw_key(replay), (n,), 0, C)
    assert set(np.asarray(labels).tolist()) == set(range(C))
    np.testing.assert_allclose(got, cvae.sample(n, y=labels, rngs=nnx.Rngs(5)), rtol=1e-6)
    assert not np.allclose(got, cvae.sample(n, y=0, rngs=nnx.Rngs(5)))  # the old label-0 default
    a, b = cvae.sample(4), cvae.sample(4)  # the model's own stream advances
    assert a.shape == (4, *FLAT) and not np.allclose(a, b)


# -- out-of-range labels, eagerly ----------------------------------------------------------------------------

BAD_LABELS = [
    (jnp.array([0, -1, 2, 1]), r"class label -1 at index 1 is outside \[0, 3\)"),
    (jnp.array([0, 1, 2, 3]), r"class label 3 at index 3 is outside \[0, 3\)"),
    (np.array([7, 0, 9, 1]), r"class label 7 at index 0 is outside \[0, 3\) \(2 labels in all\)"),
    (5, r"class label 5 is outside \[0, 3\)"),
]


@pytest.mark.parametrize(("y", "match"), BAD_LABELS)
def test_out_of_range_labels_name_value_and_index(cvae: ConditionalVAE, y: object, match: str) -> None:
    for call in (
        lambda: cvae(x_of(), y=y),
        lambda: cvae.encode(x_of(), y),
        lambda: cvae.decode(jnp.zeros((4, L)), y),
        lambda: cvae.sample(4, y=y),
        lambda: cvae.loss_fn(batch={"x": x_of(), "y": y}),
    ):
        with pytest.raises(ValueError, match="ConditionalVAE: " + match):
            call()


def test_one_hot_rows_of_the_wrong_width_still_raise(cvae: ConditionalVAE) -> None:
    with pytest.raises(ValueError, match=r"one-hot rows \(B, 3\).*got shape \(4, 5\)"):
        cvae(x_of(), y=jax.nn.one_hot(jnp.array([0, 1, 2, 4]), 5))


def test_wrappers_alone_name_the_bad_label() -> None:
    enc = ConditionalEncoder(MLPEncoder([8], L, rngs=nnx.Rngs(0)), num_classes=C, embed_dim=4, rngs=nnx.Rngs(1))
    with pytest.raises(ValueError, match=r"class label -1 at index 2 is outside \[0, 3\)"):
        enc(x_of(3), condition=jnp.array([0, 1, -1]))


# -- out-of-range labels under jit: NaN, never another class ------------------------------------------------


@nnx.jit
def _jit_loss(model: ConditionalVAE, x: jax.Array, y: jax.Array) -> jax.Array:
    return model.loss_fn(x=x, y=y, rng=jax.random.key(0))["loss"]


@pytest.mark.parametrize("bad", [-1, C], ids=["minus-one", "condition_dim"])
def test_jitted_loss_is_nan_for_an_out_of_range_label(cvae: ConditionalVAE, bad: int) -> None:
    x = x_of()
    assert np.isfinite(float(_jit_loss(cvae, x, jnp.array([0, 1, 2, 1]))))
    assert np.isnan(float(_jit_loss(cvae, x, jnp.array([0, bad, 2, 1]))))


def test_jitted_training_step_loss_and_grads_are_nan_for_a_bad_label(cvae: ConditionalVAE) -> None:
    @nnx.jit
    def step(model: ConditionalVAE, batch: dict) -> tuple[jax.Array, nnx.State]:
        return nnx.value_and_grad(lambda m: m.loss_fn(batch=batch, step=1)["loss"])(model)

    loss, _ = step(cvae, {"x": x_of(), "y": jnp.array([0, 1, -1, 1])})
    assert np.isnan(float(loss))  # the trainer's NaN guard stops the run here


def test_jitted_forward_poisons_only_the_bad_examples(cvae: ConditionalVAE) -> None:
    out = nnx.jit(lambda m, x, y: m(x, y=y, rngs=nnx.Rngs(0)))(cvae, x_of(), jnp.array([0, -1, 2, C]))
    mean = np.asarray(out["mean"])
    assert np.isnan(mean[[1, 3]]).all() and np.isfinite(mean[[0, 2]]).all()


def test_jitted_wrappers_never_wrap_minus_one_to_the_last_class() -> None:
    rngs = nnx.Rngs(0)
    dec = ConditionalDecoder(MLPDecoder([8], FLAT, L, rngs=rngs), num_classes=C, embed_dim=4, rngs=rngs)
    enc = ConditionalEncoder(MLPEncoder([8], L, input_dim=FLAT, rngs=rngs), num_classes=C, embed_dim=4, rngs=rngs)
    z, x = jnp.zeros((2, L)), x_of(2)
    decode = nnx.jit(lambda m, z, c: m(z, condition=c))
    encode = nnx.jit(lambda m, x, c: m(x, condition=c)[0])
    good, bad = decode(dec, z, jnp.array([C - 1, 0])), decode(dec, z, jnp.array([-1, 0]))
    assert np.isnan(bad[0]).all() and np.isfinite(good).all()  # was: bad[0] == good[0], class C-1
    np.testing.assert_array_equal(bad[1], good[1])
    assert np.isnan(encode(enc, x, jnp.array([0, C]))[1]).all()


def test_jitted_single_class_embedding_rejects_other_ids() -> None:
    # nnx.Embed with one class broadcasts its row whatever the id
    emb = LabelEmbedding(1, 2, rngs=nnx.Rngs(0))
    out = nnx.jit(lambda m, y: m(y))(emb, jnp.array([0, 1, -1]))
    assert np.isfinite(out[0]).all() and np.isnan(out[1:]).all()


# -- empty batches and n_samples, for every model ------------------------------------------------------------


def _kw(name: str, n: int) -> dict:
    return {"y": jnp.zeros((n,), jnp.int32)} if name == "ConditionalVAE" else {}


@pytest.mark.parametrize("name", BUILDERS)
def test_empty_batch_is_a_value_error(name: str) -> None:
    # was: ZeroDivisionError from the batch mean
    model, empty, kw = BUILDERS[name](nnx.Rngs(0)), jnp.zeros((0, *FLAT)), _kw(name, 0)
    calls = {
        "__call__": lambda: model(empty, **kw),
        "encode": lambda: model.encode(empty, **kw),
        "reconstruct": lambda: model.reconstruct(empty, **kw),
        "loss_fn": lambda: model.loss_fn(x=empty, **kw),
        "loss_fn(batch=)": lambda: model.loss_fn(batch={"x": empty, **kw}),
        "jit(loss_fn)": lambda: nnx.jit(lambda m, x: m.loss_fn(x=x, **kw)["loss"])(model, empty),
        "decode": lambda: model.decode(jnp.zeros((0, L)), **kw),
    }
    for what, call in calls.items():
        with pytest.raises(ValueError, match=rf"{name}: empty batch: [xz] has shape \(0, "):
            call()
            pytest.fail(f"{what} accepted an empty batch")


@pytest.mark.parametrize("name", BUILDERS)
@pytest.mark.parametrize("n", [0, -1, 2.0, True, "3", None])
def test_n_samples_must_be_a_positive_integer(name: str, n: object) -> None:
    # was: MLIRError for -1, an empty array for 0
    model = BUILDERS[name](nnx.Rngs(0))
    with pytest.raises(ValueError, match=rf"{name}: n_samples must be an integer >= 1, got {n!r}"):
        model.sample(n)
    with pytest.raises(ValueError, match="n_samples"):
        model.generate(n)


@pytest.mark.parametrize("name", BUILDERS)
def test_numpy_integers_are_valid_n_samples(name: str) -> None:
    assert BUILDERS[name](nnx.Rngs(0)).sample(np.int64(2)).shape == (2, *FLAT)
