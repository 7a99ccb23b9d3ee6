"""The spec page's Complete Example, run verbatim with only the import prefix changed."""

from __future__ import annotations

import pytest


def test_complete_example(capsys):
    import jax
    import jax.numpy as jnp
    from flax import nnx
    from artifex_plugins.vae import BetaVAE
    from artifex_plugins.vae.encoders import CNNEncoder
    from artifex_plugins.vae.decoders import CNNDecoder

    # Initialize
    rngs = nnx.Rngs(params=0, dropout=1, sample=2)

    # Create encoder
    encoder = CNNEncoder(
        hidden_dims=[32, 64, 128, 256],
        latent_dim=64,
        activation="relu",
        input_dim=(28, 28, 1),
        rngs=rngs,
    )

    # Create decoder
    decoder = CNNDecoder(
        hidden_dims=[256, 128, 64, 32],
        output_dim=(28, 28, 1),
        latent_dim=64,
        activation="relu",
        rngs=rngs,
    )

    # Create β-VAE
    model = BetaVAE(
        encoder=encoder,
        decoder=decoder,
        latent_dim=64,
        beta_default=4.0,
        beta_warmup_steps=10000,
        reconstruction_loss_type="mse",
        rngs=rngs,
    )

    # Forward pass
    x = jnp.ones((32, 28, 28, 1))
    outputs = model(x, rngs=rngs)

    # Calculate loss
    losses = model.loss_fn(x=x, outputs=outputs, step=5000)
    print(f"Total Loss: {losses['total_loss']:.4f}")
    print(f"Beta: {losses['beta']:.4f}")

    # Generate samples
    samples = model.sample(n_samples=16, temperature=1.0, rngs=rngs)

    # Latent traversal
    traversal = model.latent_traversal(x[0], dim=10, steps=15, rngs=rngs)

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Total Loss: ") and out[1] == "Beta: 2.0000"
    assert float(out[0].split(": ")[1]) == pytest.approx(float(losses["total_loss"]), rel=1e-4)
    assert outputs["reconstructed"].shape == (32, 28, 28, 1)
    assert samples.shape == (16, 28, 28, 1)
    assert traversal.shape == (15, 28, 28, 1)
    assert not jax.numpy.allclose(traversal[0], traversal[-1])
