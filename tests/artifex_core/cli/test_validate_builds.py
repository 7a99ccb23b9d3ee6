"""What `artifex validate` accepts, `artifex build` builds; what build cannot build, validate rejects (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from artifex_core.cli import app

runner = CliRunner()

TINY: dict[str, Any] = {"latent_dim": 2, "hidden_dims": [4]}
IMAGE: dict[str, Any] = {"input_dim": [4, 4, 1], "encoder": "cnn", "decoder": "cnn", **TINY}
VQ: dict[str, Any] = {"model": "vqvae", "parameters": {"num_embeddings": 4, "embedding_dim": 2}}

VALID: list[dict[str, Any]] = [
    {"input_dim": [8], **TINY},
    {"input_dim": [8], "output_dim": [2, 4], **TINY},  # as many values: the loss reshapes
    {"input_dim": [2, 4], "output_dim": [8], "encoder_kwargs": {"precision": "highest"}, **TINY},
    {**IMAGE, "output_dim": [1, 4, 4], "decoder": "mlp"},
    {**IMAGE, "encoder_kwargs": {"flatten": True, "kernel_size": 1}, "decoder_kwargs": {"kernel_size": 1}},
    {**IMAGE, "encoder": "resnet", "decoder": "resnet", "encoder_kwargs": {"blocks_per_stage": 1},
     "decoder_kwargs": {"blocks_per_stage": 1}},
    {**IMAGE, **VQ, "encoder_kwargs": {"spatial": True}, "decoder_kwargs": {"spatial": True}},
    {"model": "conditional_vae", "num_classes": 3, "embed_dim": 2, "input_dim": [6], **TINY},
    {"model": "conditional_vae", "num_classes": 3, **IMAGE, "encoder_kwargs": {"kernel_size": 1}},
    {"model": "beta_vae_capacity", "input_dim": [6], "parameters": {"use_capacity_control": True,
                                                                       "capacity_num_iter": 2**31 - 1}, **TINY},
]

INVALID: list[tuple[dict[str, Any], str]] = [
    ({"input_dim": [8], "encoder_kwargs": {"foo": 1}, **TINY},
     "encoder_kwargs.foo: unknown argument for encoder 'mlp'"),
    ({**IMAGE, "decoder_kwargs": {"spatail": True}}, "decoder_kwargs.spatail: unknown argument for decoder 'cnn'"),
    ({"input_dim": [8], "encoder_kwargs": {"input_dim": [8]}, **TINY}, "encoder_kwargs.input_dim: set by the config"),
    ({"model": "conditional_vae", "num_classes": 3, "input_dim": [6], "decoder_kwargs": {"num_classes": 3}, **TINY},
     "decoder_kwargs.num_classes: unknown argument for decoder 'mlp'"),
    ({"input_dim": [8], "output_dim": [4], **TINY}, "output_dim: [4] has 4 values but input_dim [8] has 8"),
    ({**IMAGE, "output_dim": [2, 2, 1]}, "output_dim: [2, 2, 1] has 4 values but input_dim [4, 4, 1] has 16"),
    ({**IMAGE, **VQ, "output_dim": [8, 8, 1]}, "output_dim: [8, 8, 1] has 64 values"),
    ({"input_dim": [8], "conditional": True, "num_classes": 3, **TINY},
     "conditional: model 'vae' (VAE) takes no condition"),
    ({"input_dim": [8], "decoder": "conditional", **TINY}, "decoder: 'conditional' is a wrapper"),
    ({"model": "beta_vae", "input_dim": [8], "parameters": {"beta_warmup_steps": 2**40}, **TINY},
     "parameters.beta_warmup_steps: 1099511627776 is out of range"),
    ({"input_dim": [8], **{**TINY, "latent_dim": 10**20}}, "latent_dim: 100000000000000000000 is out of range"),
]


def _file(tmp_path: Path, cfg: dict[str, Any]) -> Path:
    path = tmp_path / "model.json"
    path.write_text(json.dumps(cfg))
    return path


def _id(cfg: dict[str, Any]) -> str:
    return "-".join(str(cfg.get(k, "mlp" if k != "model" else "vae")) for k in ("model", "encoder", "decoder"))


@pytest.mark.parametrize("cfg", VALID, ids=_id)
def test_what_validate_accepts_build_builds(tmp_path: Path, cfg: dict[str, Any]) -> None:
    path = _file(tmp_path, cfg)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["build", "--config", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["parameters"]["total"] > 0


@pytest.mark.parametrize(("cfg", "message"), INVALID, ids=lambda v: v if isinstance(v, str) else None)
def test_what_build_cannot_build_validate_rejects(tmp_path: Path, cfg: dict[str, Any], message: str) -> None:
    path = _file(tmp_path, cfg)
    for args in (["validate", str(path)], ["build", "--config", str(path)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
        assert message in line and "Traceback" not in result.output


@pytest.mark.parametrize("part", ["encoder", "decoder"])
@pytest.mark.parametrize("name", ["cnn", "resnet"])
def test_conv_encoders_and_decoders_need_images(tmp_path: Path, part: str, name: str) -> None:
    path = _file(tmp_path, {"input_dim": [16], part: name, **TINY})
    for args in (["validate", str(path)], ["build", "--config", str(path)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert f"{part} {name!r}" in result.stderr and "needs 3 axes, got [16]" in result.stderr
