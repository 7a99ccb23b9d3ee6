"""``VariantParams``: the declared base class of every model's own parameters (``ModelConfig.parameters``).

A model registered with ``params=`` names a pydantic model subclassing :class:`VariantParams`. The core
reads only what this class declares, never a field by its name:

- :attr:`VariantParams.requires_condition`: the model needs class labels (``conditional`` defaults to true);
- :meth:`VariantParams.check_config`: cross-field checks on the validated ``ModelConfig``;
- :meth:`VariantParams.dataset_defaults`: parameters derived from the training data (:class:`DatasetInfo`),
  filled in by ``model_config_for`` where the config leaves them out;
- :meth:`VariantParams.likelihood`: the registered loss of the reconstruction term; a loss entry registered
  with ``meta={"binary_data": True}`` (a Bernoulli likelihood) makes ``binarize="auto"`` binarize.

Pure pydantic, no JAX.

Example:
    >>> from pydantic import Field
    >>> class SizedParams(VariantParams):
    ...     n: int | None = Field(None, description="Training-set size (None: from the data).")
    ...     @classmethod
    ...     def dataset_defaults(cls, info: DatasetInfo) -> dict:
    ...         return {"n": info.num_train}
    >>> SizedParams.dataset_defaults(DatasetInfo("toy", (4, 4, 1), num_train=12, num_classes=3))
    {'n': 12}
    >>> SizedParams().likelihood() is None, SizedParams.requires_condition
    (True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:  # pragma: no cover
    from artifex_core._config import ModelConfig
    from artifex_core._entry import Entry

__all__ = [
    "BINARY_DATA",
    "DatasetInfo",
    "ParamsContractError",
    "VariantParams",
    "binary_likelihood",
    "params_of",
    "requires_condition",
    "variant_params",
]

BINARY_DATA = "binary_data"
"""The ``losses`` registry ``meta`` key of a likelihood for binary data (Bernoulli): ``meta={"binary_data": True}``."""


@dataclass(frozen=True)
class DatasetInfo:
    """What a model's parameters may derive from the training data (:meth:`VariantParams.dataset_defaults`).

    Attributes:
        name: The dataset's name (``Dataset.name``).
        input_shape: Shape of one example, e.g. ``(28, 28, 1)``.
        num_train: Number of training examples (after ``--limit``).
        num_classes: Number of classes, or None for unlabelled data.

    Example:
        >>> DatasetInfo("toy", (6, 6, 1), num_train=256, num_classes=None).input_shape
        (6, 6, 1)
    """

    name: str
    input_shape: tuple[int, ...]
    num_train: int
    num_classes: int | None = None

    @classmethod
    def of(cls, dataset: Any) -> DatasetInfo:
        """The info of an :class:`artifex_core.data.Dataset` (anything with its attributes)."""
        return cls(
            name=str(dataset.name),
            input_shape=tuple(int(n) for n in dataset.example_shape),
            num_train=int(dataset.train_images.shape[0]),
            num_classes=None if dataset.num_classes is None else int(dataset.num_classes),
        )


class VariantParams(BaseModel):
    """Base class of a model's own parameters: frozen, unknown fields rejected.

    Subclass it, declare the fields with their defaults, and override what the model needs.

    Example:
        >>> from pydantic import Field
        >>> class HuberParams(VariantParams):
        ...     delta: float = Field(1.0, gt=0, description="Huber's delta.")
        ...     def likelihood(self) -> str | None:
        ...         return "huber"
        >>> HuberParams(delta=2.0).likelihood()
        'huber'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    requires_condition: ClassVar[bool] = False
    """The model needs class labels: ``conditional`` defaults to true, and false is an error."""

    @classmethod
    def check_config(cls, config: ModelConfig) -> None:
        """Cross-field checks of a validated ``config`` (default: none).

        Raises:
            ValueError: ``"parameters.FIELD: what is wrong; what to do"``.
        """

    @classmethod
    def config_defaults(cls, config: ModelConfig) -> dict[str, Any]:
        """Parameters derived from the rest of the model config (e.g. a class count from ``num_classes``);
        a value the config's ``parameters`` give wins (default: none)."""
        return {}

    @classmethod
    def dataset_defaults(cls, info: DatasetInfo) -> dict[str, Any]:
        """Parameters derived from the training data; a value the config gives wins (default: none)."""
        return {}

    def likelihood(self) -> str | None:
        """The registered loss (``losses`` registry) of the reconstruction term, or None (default: None)."""
        return None


class ParamsContractError(TypeError):
    """A model's registered params class does not subclass :class:`VariantParams`."""


def variant_params(entry: Entry) -> type[VariantParams] | None:
    """The params class of a model entry (imported on first use), checked against the contract.

    Args:
        entry: A ``models`` registry entry.

    Returns:
        The class, or None for a model registered without ``params``.

    Raises:
        ParamsContractError: The class does not subclass :class:`VariantParams` (naming the model and the class).

    Example:
        >>> from artifex_core._registry import models
        >>> variant_params(models.entry("vae")).__name__
        'VAEParams'
    """
    params = entry.load_params()
    if params is None:
        return None
    if not (isinstance(params, type) and issubclass(params, VariantParams)):
        shown = getattr(params, "__qualname__", None) or repr(params)
        where = getattr(params, "__module__", None)
        raise ParamsContractError(
            f"model {entry.qualified_id!r}: params {f'{where}.{shown}' if where else shown} must subclass "
            "artifex_core.VariantParams"
        )
    return params


def params_of(model: Any) -> type[VariantParams] | None:
    """The checked params class of the model registered as ``model`` (None: not a registered name, or a model
    registered without ``params``); imports no JAX.

    Example:
        >>> params_of("vae").__name__, params_of("no-such-model")
        ('VAEParams', None)
    """
    from artifex_core._registry import models

    if not isinstance(model, str):
        return None
    try:
        entry = models.entry(model)
    except LookupError:
        return None  # an unknown (or ambiguous) name: ModelConfig's validation reports it
    return variant_params(entry)


def requires_condition(model: Any) -> bool:
    """Whether the model registered as ``model`` needs class labels (:attr:`VariantParams.requires_condition`);
    False for an unknown name.

    Example:
        >>> requires_condition("conditional_vae"), requires_condition("vae")
        (True, False)
    """
    params = params_of(model)
    return params is not None and params.requires_condition


def binary_likelihood(config: ModelConfig) -> bool:
    """Whether the model of ``config`` declares a likelihood for binary data; imports no JAX.

    The params' :meth:`~VariantParams.likelihood` names a registered loss; its registry entry says
    ``meta={"binary_data": True}`` for a Bernoulli one. This is what ``binarize="auto"`` resolves from.

    Example:
        >>> from artifex_core import ModelConfig
        >>> binary_likelihood(ModelConfig(parameters={"reconstruction_loss_type": "bce"}))
        True
        >>> binary_likelihood(ModelConfig(parameters={"reconstruction_loss_type": "mse"}))
        False
    """
    from artifex_core._registry import losses

    name = config.likelihood()
    if name is None:
        return False
    try:
        entry = losses.entry(name)
    except LookupError:
        return False
    return bool(entry.meta.get(BINARY_DATA, False))
