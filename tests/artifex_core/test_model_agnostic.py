"""The core names no built-in: no ``artifex_plugins`` import or module string in its code, and no name the
built-in plugin registers (docstrings may point readers to the built-in plugin and its names)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from artifex_core import ModelConfig

CORE = Path(__file__).resolve().parents[2] / "artifex_core"


def _docstrings(tree: ast.Module) -> set[int]:
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, owners) and node.body and isinstance(node.body[0], ast.Expr):
            found.add(id(node.body[0].value))
    return found


def _mentions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("artifex_plugins"):
            hits.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            hits += [f"line {node.lineno}: import {a.name}" for a in node.names if a.name.startswith("artifex_plugins")]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if "artifex_plugins" in node.value:
                hits.append(f"line {node.lineno}: {node.value[:60]!r}")
    return hits


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_does_not_name_the_built_in_plugin(path: Path) -> None:
    assert _mentions(path) == []


def test_the_check_finds_a_mention(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text('"""Docs may say artifex_plugins."""\nimport artifex_plugins.vae\nX = "artifex_plugins.data._mnist"\n')
    assert _mentions(sample) == ["line 2: import artifex_plugins.vae", "line 3: 'artifex_plugins.data._mnist'"]


# -- no built-in registered name in code -------------------------------------------------------------------------
# The core must work whatever the plugins register, so its code holds no name that the built-in plugin registers
# (``"vae"``, ``"mlp"``, ``"gmm"``, ...): defaults read ModelConfig's fields, contract names are constants.

SPEC_DEFAULTS = ("_config.py", "ModelConfig", frozenset({"model", "encoder", "decoder"}))
"""The specification's ModelConfig defaults (``model="vae"``, ``encoder="mlp"``, ``decoder="mlp"``): the one
place those names are spelled; everything else in the core reads ``ModelConfig.model_fields[...].default``."""

CONTRACT_CONSTANTS: dict[tuple[str, str], str] = {
    ("_registry.py", "CONDITIONAL_WRAPPER"): "the encoder/decoder wrapper the core looks up when conditional=True",
    ("_sampler.py", "DEFAULT_SAMPLER"): "the sampler of a model that declares none (artifex sample's default)",
    ("training/_recipes.py", "DEFAULT"): "the recipe of a plain `artifex train`, the base of other models' fallback",
}
"""Documented core contract constants ``(module, NAME)``: names the core itself looks up, so a plugin must
register them; each is spelled once, as the value of its module-level constant, and used by that name."""

DATA_KEYS: dict[tuple[str, str], tuple[frozenset[str], str]] = {
    ("_buildable.py", "conditional"): (frozenset({"element"}), "the ModelConfig field, as a build problem's path"),
    ("_config.py", "conditional"): (frozenset({"membership", "index"}), "the ModelConfig field, requires_condition's"),
    ("_conformance.py", "conditional"): (frozenset({"get"}), "the ModelConfig field in tiny_config's overrides"),
    ("training/_plan.py", "conditional"): (frozenset({"get"}), "the ModelConfig field of the planned model data"),
    ("training/_trainer.py", "conditional"): (frozenset({"element"}), "the Trainer keyword, named in an error"),
    ("_introspect.py", "default"): (frozenset({"key"}), "the key of parameter records"),
    ("_source_fields.py", "default"): (frozenset({"key", "index", "membership"}),
                                       "the key of parameter records, and pydantic Field's `default=` keyword"),
    ("cli/_registry_cmds.py", "default"): (frozenset({"key", "index", "element"}),
                                           "the key of `artifex info`'s parameter records and its table column"),
}
"""Literals equal to a built-in name that are keys of a data format, not registry lookups: ``(module, literal)``
-> the syntactic roles it may have there (see :func:`_role`) and why."""


def builtin_names() -> frozenset[str]:
    """Every name, alias and qualified id that ``artifex_plugins.plugin`` registers, on fresh registries."""
    from artifex_core._host import BUILTIN
    from artifex_core._registry import PluginInfo, Registries, registering_as
    from artifex_plugins.plugin import artifex_register

    fresh = Registries()
    with registering_as(PluginInfo(BUILTIN)):
        artifex_register(fresh)
    entries = [e for reg in fresh.by_kind().values() for e in reg.entries()]
    return frozenset(n for e in entries for n in (e.name, *e.aliases, e.qualified_id))


def _documentation(tree: ast.Module) -> set[int]:
    """Bare string statements: docstrings (a module's, class's or function's first statement) and attribute
    docstrings (a string after an assignment), text for readers that changes nothing the code does."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }


def _allowed(tree: ast.Module, module: str) -> set[int]:
    """The literals :data:`SPEC_DEFAULTS` and :data:`CONTRACT_CONSTANTS` allow in ``module``."""
    allowed: set[int] = set()
    file, owner, spec_fields = SPEC_DEFAULTS
    if module == file:
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == owner):
            for stmt in cls.body:
                if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                    continue
                if stmt.target.id in spec_fields:
                    field = stmt.value  # `model: str = Field("vae", ...)`: the Field's first argument
                    allowed.add(id(field.args[0] if isinstance(field, ast.Call) and field.args else field))
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and (module, t.id) in CONTRACT_CONSTANTS for t in stmt.targets
        ):
            allowed.add(id(stmt.value))
    return allowed


def _role(node: ast.Constant, parent: ast.AST | None) -> str:
    """How a literal is used: ``element`` (of a tuple or list), ``index`` (``d["k"]``), ``key`` (``{"k": v}``),
    ``membership`` (``"k" in d``), ``get`` (``d.get("k")``) or ``other``."""
    if isinstance(parent, (ast.Tuple, ast.List)):
        return "element"
    if isinstance(parent, ast.Subscript) and parent.slice is node:
        return "index"
    if isinstance(parent, ast.Dict) and any(k is node for k in parent.keys):
        return "key"
    if isinstance(parent, ast.Compare) and parent.left is node:
        return "membership" if all(isinstance(op, (ast.In, ast.NotIn)) for op in parent.ops) else "other"
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) and parent.func.attr == "get":
        return "get" if parent.args and parent.args[0] is node else "other"
    return "other"


def registered_names_in(source: str, module: str, names: frozenset[str], *, allow: bool = True) -> list[str]:
    """``module:line: 'name'`` of each string literal in code (not documentation) equal to one of ``names``.

    With ``allow`` (the default), literals the allow-lists above permit are left out.
    """
    tree = ast.parse(source)
    skip = _documentation(tree) | (_allowed(tree, module) if allow else set())
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    hits = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or node.value not in names or id(node) in skip:
            continue
        roles, _ = DATA_KEYS.get((module, node.value), (frozenset(), ""))
        if allow and _role(node, parents.get(id(node))) in roles:
            continue
        hits.append((node.lineno, node.col_offset, f"{module}:{node.lineno}: {node.value!r}"))
    return [hit for *_, hit in sorted(hits)]


@pytest.fixture(scope="module")
def names() -> frozenset[str]:
    found = builtin_names()
    assert ModelConfig.model_fields["model"].default in found  # the names are really the built-in plugin's
    return found


def _module(path: Path) -> str:
    return path.relative_to(CORE).as_posix()


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_names_no_built_in_registration(path: Path, names: frozenset[str]) -> None:
    assert registered_names_in(path.read_text(encoding="utf-8"), _module(path), names) == []


def test_every_allowance_is_still_needed_and_each_constant_is_documented_and_used(names: frozenset[str]) -> None:
    for module, value in DATA_KEYS:
        unfiltered = registered_names_in((CORE / module).read_text(encoding="utf-8"), module, names, allow=False)
        assert any(hit.endswith(f": {value!r}") for hit in unfiltered), f"stale allowance {module}: {value!r}"
    trees = {_module(p): ast.parse(p.read_text(encoding="utf-8")) for p in CORE.rglob("*.py")}
    for module, constant in CONTRACT_CONSTANTS:
        body = trees[module].body
        [assign] = [s for s in body if isinstance(s, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == constant for t in s.targets)]
        spelled, doc = assign.value, next(iter(body[body.index(assign) + 1:]), None)
        assert isinstance(spelled, ast.Constant) and spelled.value in names, f"{module}: {constant} is no built-in name"
        assert isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant), f"{module}: {constant} undocumented"
        uses = [n for tree in trees.values() for n in ast.walk(tree)
                if isinstance(n, ast.Name) and n.id == constant and isinstance(n.ctx, ast.Load)]
        assert uses, f"{module}: {constant} is never used by name"
    assert {ModelConfig.model_fields[f].default for f in SPEC_DEFAULTS[2]} <= names


def test_the_name_check_finds_a_built_in_name_in_code_only() -> None:
    source = (
        '"""A module about the vae model."""\n'
        "def build(name='vae'):\n"
        '    """Build the vae."""\n'
        "    return lookup(name or 'mlp')\n"
        "X = 'gmm'\n"
        '"""The vae again, in an attribute docstring."""\n'
        "Y = 'vaeish'\n"
    )
    found = registered_names_in(source, "m.py", frozenset({"vae", "mlp", "gmm"}))
    assert found == ["m.py:2: 'vae'", "m.py:4: 'mlp'", "m.py:5: 'gmm'"]


def test_the_allowances_are_exactly_where_they_are_declared() -> None:
    names = frozenset({"vae", "mlp", "prior", "conditional"})
    config = "class ModelConfig:\n    model: str = Field('vae')\n    activation: str = Field('mlp')\n"
    assert registered_names_in(config, "_config.py", names) == ["_config.py:3: 'mlp'"]  # only the spec's fields
    assert registered_names_in(config, "other.py", names) == ["other.py:2: 'vae'", "other.py:3: 'mlp'"]
    sampler = "DEFAULT_SAMPLER = 'prior'\ndef f():\n    return get('prior')\n"
    assert registered_names_in(sampler, "_sampler.py", names) == ["_sampler.py:3: 'prior'"]  # the constant only
    keys = "if 'conditional' not in data:\n    data['conditional'] = registry.get('conditional')\n"
    # in _config.py the field's membership test and index pass, the registry lookup does not; elsewhere none passes
    assert registered_names_in(keys, "_config.py", names) == ["_config.py:2: 'conditional'"]
    assert registered_names_in(keys, "_factory.py", names) == [f"_factory.py:{n}: 'conditional'" for n in (1, 2, 2)]
    unfiltered = [f"_config.py:{n}: 'conditional'" for n in (1, 2, 2)]
    assert registered_names_in(keys, "_config.py", names, allow=False) == unfiltered
