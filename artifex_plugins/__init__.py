"""artifex-vae's built-in plugin: the VAE family, registered through the ``artifex.plugins`` entry point."""
