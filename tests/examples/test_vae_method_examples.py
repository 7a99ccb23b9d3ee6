"""The spec page's examples for the base VAE's methods, run verbatim (import prefix changed).

Each test defines the names a snippet assumes (``vae``, ``x``, ``rngs``, ``key``, ``test_images``,
``test_image``) and then runs the snippet exactly as printed on the page.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest
from flax import nnx

from artifex_plugins.vae import VAE
from artifex_plugins.vae.decoders import MLPDecoder
from artifex_plugins.vae.encoders import MLPEncoder


@pytest.fixture
def rngs():
    return nnx.Rngs(params=0, dropout=1, sample=2)


@pytest.fixture
def vae(rngs):
    encoder = MLPEncoder(hidden_dims=[32], latent_dim=20, input_dim=(784,), rngs=rngs)
    decoder = MLPDecoder(hidden_dims=[32], output_dim=(784,), latent_dim=20, rngs=rngs)
    return VAE(encoder=encoder, decoder=decoder, latent_dim=20, rngs=rngs)


@pytest.fixture
def x():
    return jax.random.uniform(jax.random.key(0), (32, 784))


def test_encode_example(vae, x, rngs, capsys):
    mean, log_var = vae.encode(x, rngs=rngs)
    print(f"Mean shape: {mean.shape}")        # (32, 20)
    print(f"Log-var shape: {log_var.shape}")  # (32, 20)

    assert capsys.readouterr().out == "Mean shape: (32, 20)\nLog-var shape: (32, 20)\n"


def test_decode_example(vae, rngs, capsys):
    key = jax.random.key(3)

    z = jax.random.normal(key, (32, 20))
    reconstructed = vae.decode(z, rngs=rngs)
    print(f"Reconstruction shape: {reconstructed.shape}")  # (32, 784)

    assert capsys.readouterr().out == "Reconstruction shape: (32, 784)\n"


def test_reparameterize_example(vae, x, rngs):
    mean, log_var = vae.encode(x, rngs=rngs)
    z = vae.reparameterize(mean, log_var, rngs=rngs)

    assert z.shape == (32, 20)


def test_call_example(vae, x, rngs, capsys):
    outputs = vae(x, rngs=rngs)
    print(outputs.keys())
    # dict_keys(['reconstructed', 'reconstruction', 'mean', 'log_var', 'logvar', 'z'])

    assert capsys.readouterr().out == (
        "dict_keys(['reconstructed', 'reconstruction', 'mean', 'log_var', 'logvar', 'z'])\n"
    )


def test_loss_fn_example(vae, x, rngs, capsys):
    outputs = vae(x, rngs=rngs)
    losses = vae.loss_fn(x=x, outputs=outputs)

    print(f"Reconstruction: {losses['reconstruction_loss']:.4f}")
    print(f"KL Divergence: {losses['kl_loss']:.4f}")
    print(f"Total Loss: {losses['total_loss']:.4f}")

    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["Reconstruction", "KL Divergence", "Total Loss"]
    assert float(lines[2].split(": ")[1]) == pytest.approx(float(losses["total_loss"]), abs=1e-4)


def test_sample_example(vae, rngs):
    # Generate 16 samples
    samples = vae.sample(n_samples=16, temperature=1.0, rngs=rngs)

    # More diverse samples
    hot_samples = vae.sample(n_samples=16, temperature=2.0, rngs=rngs)

    assert samples.shape == hot_samples.shape == (16, 784)


def test_reconstruct_example(vae, x, rngs):
    # Stochastic reconstruction
    recon = vae.reconstruct(x, deterministic=False, rngs=rngs)

    # Deterministic reconstruction (use latent mean)
    det_recon = vae.reconstruct(x, deterministic=True, rngs=rngs)

    assert recon.shape == det_recon.shape == (32, 784)
    assert not jnp.allclose(recon, det_recon)


def test_interpolate_example(vae, rngs):
    test_images = jax.random.uniform(jax.random.key(5), (4, 784))

    x1 = test_images[0]
    x2 = test_images[1]
    interpolation = vae.interpolate(x1, x2, steps=10, rngs=rngs)

    assert interpolation.shape == (10, 784)


def test_latent_traversal_example(vae, rngs):
    test_image = jax.random.uniform(jax.random.key(6), (784,))

    # Traverse dimension 5
    traversal = vae.latent_traversal(
        x=test_image,
        dim=5,
        range_vals=(-3.0, 3.0),
        steps=15,
        rngs=rngs,
    )

    assert traversal.shape == (15, 784)
