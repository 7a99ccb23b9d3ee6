"""`artifex list`, `info`, `plugins`, `--version`, `--help`: output, JSON, exit codes, no JAX; plugin commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import artifex_core
from artifex_core.cli import app
from artifex_core.cli._app import add_plugin_commands
from artifex_core.cli._registry_cmds import register
from artifex_core.testing import isolated_registries

runner = CliRunner()
ARTIFEX = str(Path(sys.executable).with_name("artifex"))


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARTIFEX_")}
    env.update(extra)
    return env


def test_list_json_has_every_builtin_name() -> None:
    result = runner.invoke(app, ["list", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    names = {kind: {e["name"] for e in entries} for kind, entries in data.items()}
    assert {"mlp", "cnn", "resnet"} <= names["encoders"] and {"mlp", "cnn", "resnet"} <= names["decoders"]
    assert {"mse", "bce", "l1"} <= names["losses"]
    assert {"vae", "beta_vae", "beta_vae_capacity", "conditional_vae", "vqvae"} <= names["models"]
    mlp = next(e for e in data["encoders"] if e["name"] == "mlp")
    assert mlp["aliases"] == ["dense"] and mlp["plugin"] == "builtin" and mlp["qualified_id"] == "builtin:mlp"


def test_list_kind_and_pattern() -> None:
    result = runner.invoke(app, ["list", "models", "beta*", "--json"])
    found = [e["name"] for e in json.loads(result.stdout)["models"]]
    assert {"beta_vae", "beta_vae_capacity"} <= set(found) and "vae" not in found
    result = runner.invoke(app, ["list", "v*", "--json"])  # a glob alone filters every kind
    found = [e["name"] for e in json.loads(result.stdout)["models"]]
    assert {"vae", "vqvae"} <= set(found) and "beta_vae" not in found and "encoders" in json.loads(result.stdout)
    result = runner.invoke(app, ["list", "loss"])
    assert result.exit_code == 0 and "bce" in result.stdout and "vae" not in result.stdout


def test_list_unknown_kind_exits_2_with_suggestion() -> None:
    result = runner.invoke(app, ["list", "modles"])
    assert result.exit_code == 2
    assert "unknown kind 'modles'; did you mean 'models'?" in result.stderr
    assert "Traceback" not in result.output


def test_info_model_shows_parameters_with_defaults() -> None:
    result = runner.invoke(app, ["info", "models/beta_vae_capacity", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    params = {p["name"]: p["default"] for p in data["parameters"]}
    assert params["capacity_max"] == 25.0 and params["gamma"] == 1000.0 and params["beta_warmup_steps"] == 0
    assert data["plugin"] == "builtin" and data["kind"] == "models"
    both = json.loads(runner.invoke(app, ["info", "beta_vae_capacity", "--json"]).stdout)
    assert [d["kind"] for d in both] == ["models", "recipes"]  # the model and the recipe it trains with


def test_info_name_in_two_kinds_and_unknown() -> None:
    result = runner.invoke(app, ["info", "mlp", "--json"])
    kinds = {d["kind"] for d in json.loads(result.stdout)}
    assert kinds == {"encoders", "decoders"}
    result = runner.invoke(app, ["info", "betavae"])
    assert result.exit_code == 2 and "did you mean 'beta_vae'" in result.stderr


def test_plugins_json_builtin_ok() -> None:
    result = runner.invoke(app, ["plugins", "--json"])
    data = {p["name"]: p for p in json.loads(result.stdout)}
    assert data["builtin"]["status"] == "ok" and data["builtin"]["dist"] == "artifex-vae"
    assert "models:vae" in data["builtin"]["registered"]


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("artifex-vae ")


def test_info_encoder_reads_the_signature_from_source_including_inherited_init() -> None:
    result = runner.invoke(app, ["info", "cnn", "--json"])
    encoder = next(d for d in json.loads(result.stdout) if d["kind"] == "encoders")
    params = {p["name"]: p["default"] for p in encoder["parameters"]}
    assert params["hidden_dims"] is None and params["activation"] == "'relu'" and params["spatial"] == "False"


@pytest.mark.parametrize(
    "args", [["list"], ["info", "vae"], ["info", "cnn"], ["plugins"], ["--help"], ["list", "--json"]]
)
def test_light_commands_import_no_jax(args: list[str]) -> None:
    code = (
        "import sys; from artifex_core.cli import app;"
        f"\ntry:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        "print('JAX' if any(m in sys.modules for m in ('jax', 'flax')) else 'NOJAX', file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_clean_env(), timeout=60)
    assert result.stderr.strip().endswith("NOJAX"), result.stderr


def test_real_subprocess_json_stdout_is_clean_json() -> None:
    result = subprocess.run([ARTIFEX, "list", "--json"], capture_output=True, text=True, env=_clean_env(), timeout=60)
    assert result.returncode == 0
    json.loads(result.stdout)  # warnings (if any plugin fails) go to stderr only


def test_real_subprocess_unknown_command_is_usage_error() -> None:
    result = subprocess.run([ARTIFEX, "lisst"], capture_output=True, text=True, env=_clean_env(), timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_info_is_the_same_after_the_entry_was_imported() -> None:
    from artifex_core import registries

    before = json.loads(runner.invoke(app, ["info", "cnn", "--json"]).stdout)
    registries.encoders.entry("cnn").load()  # e.g. a model was built earlier in this process
    after = json.loads(runner.invoke(app, ["info", "cnn", "--json"]).stdout)
    assert after == before and all("parameters" in d for d in after)


def test_list_shows_every_kind_including_recipes_metrics_and_loggers() -> None:
    data = json.loads(runner.invoke(app, ["list", "--json"]).stdout)
    assert list(data) == ["encoders", "decoders", "losses", "models", "datasets", "recipes", "metrics", "loggers", "samplers"]
    for kind in ("recipes", "metrics", "loggers", "recipe", "metric", "logger"):
        result = runner.invoke(app, ["list", kind, "--json"])
        assert result.exit_code == 0 and list(json.loads(result.stdout)) == [kind if kind.endswith("s") else f"{kind}s"]


def test_list_one_new_kind() -> None:
    with isolated_registries() as host:
        for entry in host.registries.loggers.entries():  # jsonl (builtin) and any plugin's
            host.registries.loggers.unregister_plugin(entry.plugin.name)
        empty = runner.invoke(app, ["list", "loggers"])
        assert empty.exit_code == 0 and empty.stdout.strip() == "no loggers registered"
        host.registries.recipes.register("quick", "operator:not_", summary="A quick recipe")
        result = runner.invoke(app, ["list", "recipes"])
        assert result.exit_code == 0 and "quick" in result.stdout and "A quick recipe" in result.stdout
        assert "encoders" not in result.stdout and "quick" in runner.invoke(app, ["list"]).stdout
        assert runner.invoke(app, ["list", "recipes", "zz*"]).stdout.strip() == "no recipes registered matching 'zz*'"  # 'z*' matches zoo:*
    assert "quick" not in runner.invoke(app, ["list", "recipes"]).stdout


class _Commands:
    @artifex_core.hookimpl
    def artifex_register_commands(self, cli):
        @cli.command("cmd-hello")
        def cmd_hello() -> None:
            print("hello from a plugin command")

        @cli.command("plugins")
        def not_plugins() -> None:
            print("shadowed")


class _CommandsFail:
    @artifex_core.hookimpl
    def artifex_register(self, registry):
        registry.metrics.register("fails_metric", "operator:not_")

    @artifex_core.hookimpl
    def artifex_register_commands(self, cli):
        raise RuntimeError("commands exploded")


def test_plugin_commands_and_failures_show_in_artifex_plugins() -> None:
    import typer

    cli = typer.Typer(add_completion=False)
    register(cli)  # the built-in list/info/plugins
    with isolated_registries() as host:
        host.register(_Commands(), name="cmds")
        host.register(_CommandsFail(), name="cmds-fail")
        with pytest.warns(artifex_core.PluginLoadWarning):
            add_plugin_commands(cli)
        assert runner.invoke(cli, ["cmd-hello"]).stdout == "hello from a plugin command\n"
        data = {p["name"]: p for p in json.loads(runner.invoke(cli, ["plugins", "--json"]).stdout)}  # the built-in
        assert data["cmds"]["commands"] == ["cmd-hello"]
        assert data["cmds"]["notes"] == ["command 'plugins' is taken by built-in: kept the existing one"]
        assert data["cmds-fail"]["status"] == "failed" and data["cmds-fail"]["error"] == "RuntimeError: commands exploded"
        table = runner.invoke(cli, ["plugins"]).stdout
        assert "cmd-hello" in table and "exploded" in table  # (cells wrap at the runner's width)
        listing = runner.invoke(cli, ["list", "metrics", "--json"])
        assert listing.exit_code == 0 and "fails_metric" not in listing.stdout  # rolled back, the CLI works
    assert [c.name for c in cli.registered_commands] == ["list", "info", "plugins"]  # isolation removed cmd-hello


@pytest.mark.parametrize("args", [["--help"], ["list"], ["plugins"], ["list", "recipes"]])
def test_main_with_plugin_commands_imports_no_jax(args: list[str]) -> None:
    code = (
        "import sys; from artifex_core.cli import main;"
        f"sys.argv = ['artifex', *{args!r}]"
        "\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('JAX' if any(m in sys.modules for m in ('jax', 'flax')) else 'NOJAX', file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_clean_env(), timeout=60)
    assert result.stderr.strip().endswith("NOJAX"), result.stderr


# -- info: types and descriptions of plugin classes, from source -------------------------------------------


def _info(name: str, kind: str | None = None) -> dict:
    data = json.loads(runner.invoke(app, ["info", name, "--json"]).stdout)
    items = data if isinstance(data, list) else [data]
    return next(d for d in items if kind is None or d["kind"] == kind)


def test_info_shows_a_plugin_params_class_types_as_written_and_field_descriptions() -> None:
    params = {p["name"]: p for p in _info("tcvae")["parameters"]}
    assert params["dataset_size"]["type"] == "PositiveInt | None" and params["dataset_size"]["default"] is None
    assert params["beta"] == {"name": "beta", "type": "float", "default": 6.0, "description": "Weight of the total correlation."}


def test_info_shows_a_plugin_logger_class_types_and_args_descriptions() -> None:
    params = {p["name"]: p for p in _info("good_log")["parameters"]}
    assert params["filename"] == {"name": "filename", "type": "str", "default": "'good_log.txt'",
                                  "description": "Name of the text file inside the run folder."}
    assert params["precision"]["type"] == "int" and params["run_dir"]["type"] == "Path"


def test_info_types_an_unannotated_plugin_argument_by_its_literal_default() -> None:
    params = {p["name"]: p["type"] for p in _info("tiny")["parameters"]}
    assert params["activation"] == "str" and params["latent_dim"] is None  # no annotation, no default: unknown
    result = runner.invoke(app, ["info", "tiny"])
    assert result.exit_code == 0 and "(encoder, good:tiny)" in result.stdout


def test_info_of_a_builtin_encoder_has_descriptions_from_its_args_section() -> None:
    params = {p["name"]: p for p in _info("cnn", "encoders")["parameters"]}
    assert params["latent_dim"]["description"] == "Latent space dimension." and params["latent_dim"]["type"] == "int"
