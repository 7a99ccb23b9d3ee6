"""The pydantic model of β-TCVAE's own arguments (``ModelConfig.parameters``); imports no JAX.

Example:
    >>> p = BetaTCVAEParams(beta=4.0, dataset_size=60000)
    >>> (p.alpha, p.beta, p.gamma, p.dataset_size)
    (1.0, 4.0, 1.0, 60000)
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

__all__ = ["BetaTCVAEParams"]


class BetaTCVAEParams(BaseModel):
    """Arguments of :class:`artifex_tcvae.model.BetaTCVAE` beyond encoder, decoder and latent_dim.

    Attributes:
        alpha: Weight of the index-code mutual information.
        beta: Weight of the total correlation (the paper's β).
        gamma: Weight of the dimension-wise KL.
        dataset_size: Size N of the training set, used by the minibatch-weighted-sampling estimator;
            None treats each minibatch as the whole data set (N = batch size).
        reconstruction_loss_type: Registered reconstruction loss (likelihood): mse, bce, l1 or a plugin's.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    requires_condition: ClassVar[bool] = False

    alpha: float = Field(1.0, ge=0, description="Weight of the index-code mutual information.")
    beta: float = Field(6.0, ge=0, description="Weight of the total correlation.")
    gamma: float = Field(1.0, ge=0, description="Weight of the dimension-wise KL.")
    dataset_size: PositiveInt | None = Field(
        None, description="Training-set size N for the MWS estimator (None: the batch size)."
    )
    reconstruction_loss_type: str = Field("mse", description="Registered reconstruction loss.")
