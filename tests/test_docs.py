"""The documentation site covers the API specification, the CLI and the public API, and its tutorial works.

These checks read the Markdown sources and the code statically (griffe, as the site build does); they do not
run mkdocs (CI runs ``mkdocs build --strict`` separately). The last test runs the "Write a plugin" tutorial's
code: its files are extracted from the page, registered for one test and put through ``check_model``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import sys
import tomllib
from pathlib import Path

import griffe
import pytest
import yaml

from artifex_core.testing import isolated_registries

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# The API specification lives beside the checkout (../shared/spec/), not in it: the docs are the project's own.
SPEC = ROOT.parent / "shared" / "spec" / "vae-api-reference.md"
SPEC_PREFIX, PREFIX = "artifex.generative_models.models.vae", "artifex_plugins.vae"
SEARCH_PATHS = [str(ROOT), str(ROOT / "plugins" / "artifex-tcvae")]

_DIRECTIVE = re.compile(r"^::: *([\w.]+) *$", re.MULTILINE)
_PY_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
_TITLED_BLOCK = re.compile(r'```(\w+) title="([^"]+)"\n(.*?)```', re.DOTALL)


def _spec() -> str:
    """The specification with this package's import prefix; the calling test is skipped where it is absent."""
    if not SPEC.is_file():
        pytest.skip(f"no specification at {SPEC} to compare the docs with")
    return SPEC.read_text().replace(SPEC_PREFIX, PREFIX)


def _page(name: str) -> str:
    return (DOCS / name).read_text()


def _directives(text: str) -> set[str]:
    return set(_DIRECTIVE.findall(text))


# -- the API specification -----------------------------------------------------------------------------------


def test_the_docs_hold_no_copy_of_the_specification() -> None:
    copies = [str(p.relative_to(ROOT)) for p in DOCS.rglob("*.md") if p.name == SPEC.name]
    assert not copies, f"the docs are the project's own: remove the copied specification {copies}"


def test_every_spec_directive_is_on_the_vae_page() -> None:
    missing = _directives(_spec()) - _directives(_page("api/vae.md"))
    assert not missing, f"docs/api/vae.md lacks ':::' directives for {sorted(missing)}"


def test_every_spec_class_and_function_is_documented() -> None:
    spec = _spec()
    overview = _PY_BLOCK.findall(spec)[0]
    classes = set(re.findall(r"^\s+([A-Z]\w+),", overview, re.MULTILINE))
    functions = set(re.findall(r"^### `(\w+)`", spec, re.MULTILINE))
    assert {"VAE", "VQVAE", "ResNetEncoder", "ResNetDecoder"} <= classes and len(classes) == 13
    assert functions == {"create_encoder_unified", "create_decoder_unified"}
    documented = {target.rsplit(".", 1)[-1] for target in _directives(_page("api/vae.md"))}
    assert not (classes | functions) - documented, f"undocumented: {sorted((classes | functions) - documented)}"


def test_every_spec_example_is_on_the_vae_page() -> None:
    """Every Python block of the spec that is not a bare signature appears verbatim (with this package's prefix)."""
    page = _page("api/vae.md")
    examples = [
        block
        for block in _PY_BLOCK.findall(_spec())
        if not re.match(r"\s*(class |def |@nnx\.jit)", block)
    ]
    assert len(examples) >= 20
    missing = [block.splitlines()[0] for block in examples if block not in page]
    assert not missing, f"spec examples missing from docs/api/vae.md, starting: {missing}"


# -- every ':::' target exists ---------------------------------------------------------------------------------


def _site_pages() -> list[Path]:
    """The site's Markdown pages (folders starting with '_' are excluded from the site)."""
    return [p for p in DOCS.rglob("*.md") if not p.relative_to(DOCS).parts[0].startswith("_")]


def _all_directives() -> dict[str, str]:
    found = {}
    for page in _site_pages():
        for target in _directives(page.read_text()):
            found[target] = str(page.relative_to(DOCS))
    return found


def test_every_directive_resolves_statically() -> None:
    loader = griffe.GriffeLoader(search_paths=SEARCH_PATHS, allow_inspection=False)
    packages: dict[str, griffe.Module] = {}
    unresolved = []
    for target, page in sorted(_all_directives().items()):
        package = target.split(".")[0]
        try:
            if package not in packages:
                packages[package] = loader.load(package)
            module = packages[package]
            obj = module if target == package else module[target.split(".", 1)[1]]
            if obj.is_alias:
                obj.final_target  # noqa: B018 - resolving raises for a dangling alias
        except (KeyError, ImportError, griffe.AliasResolutionError) as exc:
            unresolved.append(f"{target} ({page}): {type(exc).__name__}")
    assert not unresolved, "unresolvable ':::' targets: " + "; ".join(unresolved)


def test_the_core_page_covers_artifex_core_public_names() -> None:
    tree = ast.parse((ROOT / "artifex_core" / "__init__.py").read_text())
    exported = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets)
    )
    page = _page("api/core.md")
    documented = {target.rsplit(".", 1)[-1] for target in _directives(page)}
    not_objects = {"__version__", "hookimpl"}  # a string and a pluggy marker: described in prose
    missing = set(exported) - not_objects - documented
    assert not missing, f"docs/api/core.md has no ':::' for artifex_core.{sorted(missing)}"
    assert "hookimpl" in page


# -- site structure ------------------------------------------------------------------------------------------


def _nav_pages(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [p for item in node for p in _nav_pages(item)]
    if isinstance(node, dict):
        return [p for value in node.values() for p in _nav_pages(value)]
    return []


def test_nav_lists_every_page_and_only_existing_ones() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    nav = _nav_pages(config["nav"])
    pages = {str(p.relative_to(DOCS)) for p in _site_pages()}
    assert set(nav) == pages, f"not in nav: {sorted(pages - set(nav))}; missing files: {sorted(set(nav) - pages)}"
    python = config["plugins"][1]["mkdocstrings"]["handlers"]["python"]
    assert python["options"]["allow_inspection"] is False, "the docs build must not import the packages"


def test_cli_reference_covers_every_command_and_option() -> None:
    import typer

    from artifex_core.cli.app import app

    page = _page("guide/cli.md")
    group = typer.main.get_command(app)
    assert len(group.commands) >= 6
    missing = []
    for name, command in group.commands.items():
        section = page.split(f"## `artifex {name}`", 1)
        if len(section) != 2:
            missing.append(f"section 'artifex {name}'")
            continue
        body = section[1].split("\n## ", 1)[0]
        for param in command.params:
            if param.param_type_name == "argument":
                if f"`{param.name.upper()}`" not in body:
                    missing.append(f"{name} {param.name.upper()}")
            elif param.name != "help":
                missing.extend(f"{name} {opt}" for opt in param.opts if f"`{opt}`" not in body)
    assert not missing, f"docs/guide/cli.md lacks: {missing}"


# -- the "Write a plugin" tutorial ---------------------------------------------------------------------------


def _tutorial_files() -> dict[str, str]:
    return {title: body for _, title, body in _TITLED_BLOCK.findall(_page("write-a-plugin.md"))}


def test_tutorial_declares_the_entry_point_the_core_loads() -> None:
    from artifex_core.plugins import ENTRY_POINT_GROUP

    files = _tutorial_files()
    assert set(files) >= {
        "artifex-freebits/pyproject.toml",
        "artifex-freebits/artifex_freebits/__init__.py",
        "artifex-freebits/artifex_freebits/params.py",
        "artifex-freebits/artifex_freebits/model.py",
        "artifex-freebits/tests/conftest.py",
        "artifex-freebits/tests/test_freebits.py",
    }
    project = tomllib.loads(files["artifex-freebits/pyproject.toml"])["project"]
    assert project["entry-points"][ENTRY_POINT_GROUP] == {"freebits": "artifex_freebits"}
    assert "artifex-vae" in project["dependencies"]
    hook = files["artifex-freebits/artifex_freebits/__init__.py"]
    assert "import jax" not in hook and "from flax" not in hook, "the hook module must not import JAX"
    assert f'[project.entry-points."{ENTRY_POINT_GROUP}"]' in (ROOT / "README.md").read_text()


def test_tutorial_plugin_works(tmp_path: Path) -> None:
    """Write the tutorial's files, register its hook as plugin 'freebits' and run the tutorial's own tests."""
    for title, body in _tutorial_files().items():
        path = tmp_path / title
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    package_root = str(tmp_path / "artifex-freebits")
    sys.path.insert(0, package_root)
    try:
        with isolated_registries():
            from artifex_core.plugins import register_plugin

            plugin = importlib.import_module("artifex_freebits")
            status = register_plugin(plugin, name="freebits", dist="artifex-freebits", version="0.1.0")
            assert status.status == "ok", status.error
            assert sorted(status.registered) == ["losses:huber", "models:freebits_vae"]
            spec = importlib.util.spec_from_file_location("tutorial_tests", tmp_path / "artifex-freebits/tests/test_freebits.py")
            tests = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(tests)
            tests.test_registered_by_the_plugin()
            tests.test_conforms()
            tests.test_kl_is_floored_per_dimension()
            tests.test_parameters_are_validated()
    finally:
        sys.path.remove(package_root)
        for name in [m for m in sys.modules if m == "artifex_freebits" or m.startswith("artifex_freebits.")]:
            del sys.modules[name]


# -- the docs build's griffe extension -----------------------------------------------------------------------


def test_docstring_tidying_for_the_site() -> None:
    sys.path.insert(0, str(DOCS / "_griffe"))
    try:
        from examples_section import tidy
    finally:
        sys.path.remove(str(DOCS / "_griffe"))
    assert tidy("Summary.\n\nExample:\n    >>> 1\n    1\n") == "Summary.\n\nExamples:\n    >>> 1\n    1\n"
    assert tidy("See :class:`Registry` and :func:`~artifex_core.config.load_config`.") == (
        "See `Registry` and `load_config`."
    )
    table = (
        "Intro:\n\n======== ====== ===\nfactor    size  value\n======== ====== ===\n"
        "shape        3  1 square, 2 ellipse\norientation 40  ``radians``, a | b\n======== ====== ===\nAfter."
    )
    assert tidy(table).splitlines()[2:] == [
        "| factor | size | value |",
        "|---|---|---|",
        "| shape | 3 | 1 square, 2 ellipse |",
        "| orientation | 40 | ``radians``, a \\| b |",
        "After.",
    ]
