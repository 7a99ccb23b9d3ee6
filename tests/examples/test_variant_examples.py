"""The spec page's examples for BetaVAE, BetaVAEWithCapacity, ConditionalVAE and VQVAE, run verbatim.

Only the import prefix is changed; each test defines the names its snippet assumes (``encoder``,
``decoder``, ``rngs``, ``batch``, ``num_steps``, ``outputs``, ``step``, ``x``, ``base_encoder``,
``base_decoder``) and checks what the page says the snippet produces.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest
from flax import nnx

from artifex_plugins.vae import BetaVAE, BetaVAEWithCapacity, ConditionalVAE, VQVAE
from artifex_plugins.vae.decoders import ConditionalDecoder, MLPDecoder
from artifex_plugins.vae.encoders import ConditionalEncoder, MLPEncoder


def mlp_pair(rngs, latent_dim):
    encoder = MLPEncoder(hidden_dims=[32], latent_dim=latent_dim, input_dim=(784,), rngs=rngs)
    decoder = MLPDecoder(hidden_dims=[32], output_dim=(784,), latent_dim=latent_dim, rngs=rngs)
    return encoder, decoder


def test_beta_vae_example():
    rngs = nnx.Rngs(params=0, dropout=1, sample=2)
    encoder, decoder = mlp_pair(rngs, 32)
    batch = jax.random.uniform(jax.random.key(0), (8, 784))
    num_steps = 3
    betas = []

    beta_vae = BetaVAE(
        encoder=encoder,
        decoder=decoder,
        latent_dim=32,
        beta_default=4.0,              # Higher β encourages disentanglement
        beta_warmup_steps=10000,       # Gradually increase β
        reconstruction_loss_type="mse",
        rngs=rngs,
    )

    # Training step with beta annealing
    for step in range(num_steps):
        outputs = beta_vae(batch, rngs=rngs)
        losses = beta_vae.loss_fn(x=batch, outputs=outputs, step=step)
        # losses['beta'] contains current β value
        betas.append(float(losses["beta"]))

    assert betas == pytest.approx([0.0, 4.0 / 10000, 8.0 / 10000])


def test_beta_vae_with_capacity_example(capsys):
    rngs = nnx.Rngs(params=0, dropout=1, sample=2)
    encoder, decoder = mlp_pair(rngs, 32)
    batch = jax.random.uniform(jax.random.key(0), (8, 784))
    outputs = BetaVAE(encoder=encoder, decoder=decoder, latent_dim=32, rngs=rngs)(batch)
    step = 5000

    capacity_vae = BetaVAEWithCapacity(
        encoder=encoder,
        decoder=decoder,
        latent_dim=32,
        beta_default=4.0,
        use_capacity_control=True,
        capacity_max=25.0,
        capacity_num_iter=25000,
        gamma=1000.0,
        rngs=rngs,
    )

    # Loss includes capacity terms
    losses = capacity_vae.loss_fn(x=batch, outputs=outputs, step=step)
    print(losses['current_capacity'])    # Current C value
    print(losses['capacity_loss'])       # γ * |KL - C|
    print(losses['kl_capacity_diff'])    # KL - C

    printed = [float(v) for v in capsys.readouterr().out.split()]
    kl = float(losses["kl_loss"])
    assert printed[0] == pytest.approx(5.0)  # 25 * 5000 / 25000
    assert printed[1] == pytest.approx(1000.0 * abs(kl - 5.0), rel=1e-5)
    assert printed[2] == pytest.approx(kl - 5.0, rel=1e-5)


def test_conditional_vae_example():
    rngs = nnx.Rngs(params=0, dropout=1, sample=2)
    base_encoder = MLPEncoder(hidden_dims=[64, 32], latent_dim=32, rngs=rngs)  # input_dim inferred, as on the page
    base_decoder = MLPDecoder(hidden_dims=[32, 64], output_dim=(784,), latent_dim=32, rngs=rngs)
    x = jax.random.uniform(jax.random.key(0), (5, 784))

    # Create conditional encoder/decoder
    conditional_encoder = ConditionalEncoder(
        encoder=base_encoder,
        num_classes=10,
        embed_dim=128,
        rngs=rngs,
    )

    conditional_decoder = ConditionalDecoder(
        decoder=base_decoder,
        num_classes=10,
        embed_dim=128,
        rngs=rngs,
    )

    cvae = ConditionalVAE(
        encoder=conditional_encoder,
        decoder=conditional_decoder,
        latent_dim=32,
        condition_dim=10,
        rngs=rngs,
    )

    # Forward pass with class labels
    labels = jnp.array([0, 1, 2, 3, 4])
    outputs = cvae(x, y=labels, rngs=rngs)

    # Generate specific classes
    target_labels = jnp.array([5, 5, 5, 5])
    samples = cvae.sample(n_samples=4, y=target_labels, rngs=rngs)

    assert outputs["reconstructed"].shape == (5, 784)
    assert samples.shape == (4, 784)


def test_vqvae_example(capsys):
    rngs = nnx.Rngs(params=0, dropout=1, sample=2)
    encoder, decoder = mlp_pair(rngs, 64)
    x = jax.random.uniform(jax.random.key(0), (4, 784))
    batch = x

    vqvae = VQVAE(
        encoder=encoder,
        decoder=decoder,
        latent_dim=64,
        num_embeddings=512,    # 512 discrete codes
        embedding_dim=64,
        commitment_cost=0.25,
        rngs=rngs,
    )

    # Forward pass includes quantization
    outputs = vqvae(x, rngs=rngs)
    print(outputs['z_e'])              # Pre-quantization encoding
    print(outputs['quantized'])        # Quantized (discrete) encoding
    print(outputs['commitment_loss'])  # Commitment loss component
    print(outputs['codebook_loss'])    # Codebook loss component

    # Loss includes VQ-specific terms
    losses = vqvae.loss_fn(x=batch, outputs=outputs)
    print(losses['reconstruction_loss'])
    print(losses['commitment_loss'])
    print(losses['codebook_loss'])

    assert capsys.readouterr().out.count("\n") >= 7
    assert outputs["z_e"].shape == outputs["quantized"].shape == (4, 64)
    total = losses["reconstruction_loss"] + losses["codebook_loss"] + 0.25 * losses["commitment_loss"]
    assert float(losses["loss"]) == pytest.approx(float(total), rel=1e-5)
