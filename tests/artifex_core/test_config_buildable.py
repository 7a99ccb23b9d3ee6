"""ModelConfig.check_buildable on plugin classes: rules read from constructors and declarations, not names."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from artifex_core import ModelConfig
from artifex_core import format_validation_error
from artifex_core import decoders, encoders, models

pytest_plugins = ["artifex_core.testing"]

TINY: dict[str, Any] = {"input_dim": (8,), "latent_dim": 2, "hidden_dims": (4,)}


def _lines(**kwargs: Any) -> list[str]:
    with pytest.raises(ValidationError) as info:
        ModelConfig(**{**TINY, **kwargs}).check_buildable()
    return format_validation_error(info.value)


class Explicit:
    """An encoder taking two extra arguments, one of them required."""

    def __init__(self, hidden_dims: list, latent_dim: int, activation: str = "relu", input_dim: Any = None, *,
                 rngs: Any, depth: int, width: int = 2) -> None:
        self.depth, self.width = depth, width


class Anything(Explicit):
    """Takes **kwargs: any key is fine."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.kwargs = kwargs


class Custom:
    """Builds itself from the config: its kwargs are its own business."""

    @classmethod
    def from_config(cls, config: ModelConfig, *, rngs: Any) -> Custom:
        return cls()


class ImageDecoder:
    """Declares that its output_dim has 3 axes."""

    output_ndim: ClassVar[int] = 3

    def __init__(self, hidden_dims: list, output_dim: tuple, latent_dim: int, activation: str = "relu", *,
                 rngs: Any = None) -> None:
        self.output_dim = output_dim


class Labelled:
    """A model whose __call__ takes a condition."""

    def __call__(self, x: Any, y: Any = None) -> dict:
        return {}


def test_an_explicit_signature_allows_only_its_keys_and_needs_its_required_ones(artifex_registries: Any) -> None:
    encoders.register("explicit", Explicit)
    lines = _lines(encoder="explicit", encoder_kwargs={"widht": 3})
    assert lines == [
        "encoder_kwargs.widht: unknown argument for encoder 'explicit' (Explicit) (got 3); did you mean 'width'? "
        "(allowed: depth, width)",
        "encoder_kwargs.depth: required by encoder 'explicit' (Explicit); set encoder_kwargs.depth",
    ]
    ModelConfig(**TINY, encoder="explicit", encoder_kwargs={"depth": 1, "width": 3}).check_buildable()


def test_var_keyword_and_from_config_take_anything_but_the_factory_keys(artifex_registries: Any) -> None:
    encoders.register("anything", Anything)
    encoders.register("custom", Custom)
    ModelConfig(**TINY, encoder="anything", encoder_kwargs={"whatever": [1, 2]}).check_buildable()
    ModelConfig(**TINY, encoder="custom", encoder_kwargs={"latent_dim": 9, "x": 1}).check_buildable()
    (line,) = _lines(encoder="anything", encoder_kwargs={"rngs": 0})
    assert line == "encoder_kwargs.rngs: passed by the factory itself; remove it from encoder_kwargs (got 0)"


def test_a_declared_rank_is_checked(artifex_registries: Any) -> None:
    decoders.register("image", ImageDecoder)
    (line,) = _lines(decoder="image")
    assert line == "output_dim: decoder 'image' (ImageDecoder) needs 3 axes, got [8] (1 axes); images are (H, W, C)"
    ModelConfig(**{**TINY, "input_dim": (2, 2, 2)}, decoder="image").check_buildable()


def test_a_model_declares_that_it_does_not_reconstruct_its_input(artifex_registries: Any) -> None:
    models.register("predictor", "artifex_plugins.vae.base:VAE", meta={"reconstructs_input": False})
    ModelConfig(**TINY, model="predictor", output_dim=(3,)).check_buildable()
    models.register("labelled", Labelled)
    ModelConfig(**TINY, model="labelled", conditional=True, num_classes=2).check_buildable()


SOURCE = '''
from typing import Any, ClassVar


class Base:
    input_ndim: ClassVar[int] = 3

    def __init__(self, hidden_dims, latent_dim, activation="relu", input_dim=None, *, rngs, gain: float = 1.0):
        self.gain = gain


class Lazy(Base):
    """Inherits __init__ and input_ndim."""
'''


def test_lazy_targets_are_read_from_source_without_importing(
    artifex_registries: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "artifex_cfgtest_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from .enc import Lazy\n\nraise RuntimeError('imported')\n")
    (package / "enc.py").write_text(textwrap.dedent(SOURCE))
    monkeypatch.syspath_prepend(str(tmp_path))
    encoders.register("lazy", "artifex_cfgtest_pkg.enc:Lazy")
    encoders.register("reexported", "artifex_cfgtest_pkg:Lazy")  # found through the package's relative import
    for name in ("lazy", "reexported"):
        lines = _lines(encoder=name, encoder_kwargs={"gian": 2.0})
        assert lines == [
            f"encoder_kwargs.gian: unknown argument for encoder {name!r} (Lazy) (got 2.0); did you mean 'gain'? "
            "(allowed: gain)",
            f"input_dim: encoder {name!r} (Lazy) needs 3 axes, got [8] (1 axes); images are (H, W, C)",
        ]
        ModelConfig(**{**TINY, "input_dim": (4, 4, 1)}, encoder=name, encoder_kwargs={"gain": 2.0}).check_buildable()
    assert "artifex_cfgtest_pkg" not in sys.modules


def test_checking_a_config_imports_no_jax(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "model: conditional_vae\nnum_classes: 3\ninput_dim: [8, 8, 1]\nencoder: resnet\ndecoder: cnn\n"
        "encoder_kwargs: {blocks_per_stage: 1}\ndecoder_kwargs: {kernel_size: 1}\n"
    )
    code = (
        "import sys; from artifex_core import load_config;"
        f"load_config({str(path)!r});"
        "print('JAX' if any(m in sys.modules for m in ('jax', 'flax')) else 'NOJAX')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "NOJAX", result.stderr
