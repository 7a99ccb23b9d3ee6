"""The plugin's recipe: how ``artifex train --model tiny_vae`` trains (its own dataset, a short schedule)."""

TINY_VAE_RECIPE = {
    "model": {"model": "tiny_vae", "encoder": "tiny", "decoder": "mlp", "hidden_dims": [16], "latent_dim": 2,
              "parameters": {"free_bits": 0.5}},
    "train": {"dataset": "blobs", "epochs": 2, "batch_size": 32, "lr": 3e-3},
}
