"""The parameters of β-TCVAE (``ModelConfig.parameters``), an :class:`artifex_core.VariantParams`; no JAX.

Example:
    >>> p = BetaTCVAEParams(beta=4.0, dataset_size=60000)
    >>> (p.alpha, p.beta, p.gamma, p.dataset_size, p.likelihood())
    (1.0, 4.0, 1.0, 60000, 'mse')
    >>> from artifex_core import DatasetInfo
    >>> BetaTCVAEParams.dataset_defaults(DatasetInfo("toy", (8, 8, 1), num_train=512))
    {'dataset_size': 512}
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, PositiveInt

from artifex_core import DatasetInfo, VariantParams

__all__ = ["BetaTCVAEParams"]


class BetaTCVAEParams(VariantParams):
    """Arguments of :class:`artifex_tcvae.model.BetaTCVAE` beyond encoder, decoder and latent_dim.

    Attributes:
        alpha: Weight of the index-code mutual information.
        beta: Weight of the total correlation (the paper's β).
        gamma: Weight of the dimension-wise KL.
        dataset_size: Size N of the training set, used by the minibatch-weighted-sampling estimator;
            None treats each minibatch as the whole data set (N = batch size). ``artifex train`` fills in
            the training split's size (:meth:`dataset_defaults`).
        reconstruction_loss_type: Registered reconstruction loss (likelihood): mse, bce, l1 or a plugin's.
    """

    alpha: float = Field(1.0, ge=0, description="Weight of the index-code mutual information.")
    beta: float = Field(6.0, ge=0, description="Weight of the total correlation.")
    gamma: float = Field(1.0, ge=0, description="Weight of the dimension-wise KL.")
    dataset_size: PositiveInt | None = Field(
        None, description="Training-set size N for the MWS estimator (None: the batch size)."
    )
    reconstruction_loss_type: str = Field("mse", description="Registered reconstruction loss.")

    @classmethod
    def dataset_defaults(cls, info: DatasetInfo) -> dict[str, Any]:
        """The MWS estimator's N: the number of training examples."""
        return {"dataset_size": info.num_train}

    def likelihood(self) -> str | None:
        """The registered loss of the reconstruction term: ``reconstruction_loss_type``."""
        return self.reconstruction_loss_type
