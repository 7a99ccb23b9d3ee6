"""XLA:CPU flags chosen for the model about to be built, set before JAX creates its CPU backend.

XLA reads ``XLA_FLAGS`` once, when JAX starts its first backend, so the flags must be in the environment before
any computation. The core knows no model family: the fastest correct flags of each encoder, decoder and model are
declared by the plugin that registers it, in its registry ``meta`` under :data:`XLA_FLAGS_META` (read from the
registry, nothing imported)::

    registry.encoders.register(
        "cnn", "my_pkg:CNNEncoder",
        meta={XLA_FLAGS_META: {"flags": ["--xla_cpu_experimental_ynn_fusion_type=dot,eltwise,reduce"],
                               "jaxlib": ">=0.10.2,<0.11"}},
    )

``jaxlib`` is the range of jaxlib versions the flags were measured with (XLA aborts on a flag it does not know,
and experimental flags come and go); outside it the entry's flags are skipped. :func:`tune_xla` combines the
flags of the model, its encoder and its decoder (the comma-separated values of one flag are merged) and sets
``XLA_FLAGS``, unless

- the user set ``XLA_FLAGS`` (mode ``"user"``: the user's flags win, untouched),
- tuning is switched off (``enabled=False``, ``artifex train --no-xla-tuning``, or ``ARTIFEX_XLA_TUNING=off``;
  mode ``"off"``),
- JAX's backend is already running in this process (mode ``"auto"`` with ``applied`` False: too late).

The decision is kept (:func:`last_xla_tuning`) and recorded in a run's ``config.json`` under ``"xla"``.

Example:
    Call it first, before anything imports JAX and computes::

        import artifex_core

        tuning = artifex_core.tune_xla("cnn")   # or tune_xla(model_config), tune_xla({"encoder": "cnn", ...})
        print(tuning.flags, tuning.mode)         # e.g. ('--xla_cpu_experimental_ynn_fusion_type=dot,eltwise,reduce',) auto

        import jax                               # the CPU backend now starts with those flags
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["XLA_FLAGS_META", "XLA_TUNING_ENV", "XlaTuning", "combine_flags", "last_xla_tuning", "tune_xla", "xla_flags_for"]

XLA_FLAGS_META = "xla_flags"
"""The registry ``meta`` key of an encoder, decoder or model's XLA flags: ``{"flags": [...], "jaxlib": RANGE}``
(or just the list of flags, for any jaxlib)."""

XLA_TUNING_ENV = "ARTIFEX_XLA_TUNING"
"""Environment variable switching the automatic choice off: ``off`` / ``0`` / ``false`` / ``no``."""

_OFF_VALUES = frozenset({"off", "0", "false", "no"})
_SET_BY_US: str | None = None
"""The ``XLA_FLAGS`` value this module set (so a second call in one process does not mistake it for the user's)."""
_LAST: XlaTuning | None = None


@dataclass(frozen=True)
class XlaTuning:
    """One decision of :func:`tune_xla`.

    Attributes:
        mode: ``"auto"`` (the declared flags), ``"user"`` (``XLA_FLAGS`` was set by the user) or ``"off"``.
        flags: The flags in effect for XLA (the user's in mode ``"user"``; empty when ``"off"``).
        applied: Whether ``XLA_FLAGS`` holds them before JAX started (False: JAX was already running, or nothing
            to set).
        sources: Which registry entry asked for which flags, e.g. ``{"encoders:cnn": [...]}``.
        notes: Entries skipped and why (a jaxlib outside the measured range, ...).
    """

    mode: str
    flags: tuple[str, ...] = ()
    applied: bool = False
    sources: dict[str, list[str]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def as_record(self) -> dict[str, Any]:
        """The JSON record kept in ``config.json`` (``"xla"``)."""
        out = asdict(self)
        out["flags"], out["notes"] = list(self.flags), list(self.notes)
        return out

    def describe(self) -> str:
        """One line for ``--verbose``, e.g. ``XLA flags (auto, from encoders:cnn): --xla_...``."""
        flags = " ".join(self.flags) or "(none)"
        if self.mode == "user":
            return f"XLA flags (user's XLA_FLAGS, no tuning): {flags}"
        if self.mode == "off":
            return "XLA flags: tuning off (--no-xla-tuning / ARTIFEX_XLA_TUNING=off)"
        origin = ", ".join(self.sources) or "no entry declares any"
        late = "" if self.applied or not self.flags else " [not applied: JAX was already running]"
        return f"XLA flags (auto, from {origin}): {flags}{late}"


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text.split("+")[0])[:3])


def jaxlib_in_range(spec: str, version: str) -> bool:
    """Whether ``version`` satisfies ``spec``: comma-separated ``>=X``, ``>X``, ``<X``, ``<=X``, ``==X`` clauses.

    Example:
        >>> jaxlib_in_range(">=0.10.2,<0.11", "0.10.2"), jaxlib_in_range(">=0.10.2,<0.11", "0.11.0")
        (True, False)
    """
    have = _version_tuple(version)
    for clause in (c.strip() for c in spec.split(",") if c.strip()):
        match = re.fullmatch(r"(>=|<=|==|>|<)\s*([\w.]+)", clause)
        if match is None:
            raise ValueError(f"jaxlib range clause {clause!r} is not one of >=X, >X, <X, <=X, ==X")
        op, want = match.group(1), _version_tuple(match.group(2))
        ok = {">=": have >= want, "<=": have <= want, "==": have == want, ">": have > want, "<": have < want}[op]
        if not ok:
            return False
    return True


def _installed_jaxlib() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jaxlib")
    except PackageNotFoundError:
        return None


def combine_flags(*flag_lists: Sequence[str]) -> tuple[str, ...]:
    """Merge flag lists in order: one entry per flag name; comma-separated values of one flag are united.

    Example:
        >>> combine_flags(["--a=dot", "--b=1"], ["--a=eltwise,dot"])
        ('--a=dot,eltwise', '--b=1')
    """
    merged: dict[str, list[str] | None] = {}
    for flags in flag_lists:
        for flag in flags:
            name, sep, value = flag.partition("=")
            if not sep:
                merged.setdefault(name, None)
                continue
            values = merged.setdefault(name, [])
            if values is None:  # a bare flag and a valued one: the valued one
                values = merged[name] = []
            values += [v for v in value.split(",") if v and v not in values]
    return tuple(name if values is None else f"{name}={','.join(values)}" for name, values in merged.items())


def _entry_flags(kind: str, name: str, jaxlib: str | None, notes: list[str]) -> list[str]:
    """The flags registry ``kind`` declares for ``name`` (empty if none, unknown, or outside its jaxlib range)."""
    from artifex_core import _config

    registry = getattr(_config, kind)
    try:
        declared = registry.entry(name).meta.get(XLA_FLAGS_META)
    except LookupError:  # unknown or ambiguous: the planner reports it properly
        return []
    if not declared:
        return []
    if isinstance(declared, Mapping):
        flags, spec = list(declared.get("flags", ())), declared.get("jaxlib")
    else:
        flags, spec = list(declared), None
    if spec and (jaxlib is None or not jaxlib_in_range(str(spec), jaxlib)):
        notes.append(f"{kind}:{name}: flags measured with jaxlib {spec}, installed {jaxlib or 'none'}: skipped")
        return []
    return [str(f) for f in flags]


def _names(config: Any) -> dict[str, str]:
    """``{"models": ..., "encoders": ..., "decoders": ...}`` of a network name, a mapping or a ModelConfig.

    A mapping without ``model``, ``encoder`` or ``decoder`` gets :class:`~artifex_core.ModelConfig`'s default
    (read from its field, so the core repeats no registered name; importing it imports no JAX).
    """
    if isinstance(config, str):
        return {"encoders": config, "decoders": config}
    from artifex_core._config import ModelConfig

    data = config.model_dump() if hasattr(config, "model_dump") else dict(config or {})
    fields = ModelConfig.model_fields
    return {
        f"{key}s": str(data.get(key) or fields[key].default) for key in ("model", "encoder", "decoder")
    }


def xla_flags_for(config: str | Mapping[str, Any] | Any) -> tuple[tuple[str, ...], dict[str, list[str]], list[str]]:
    """The combined flags the registered entries declare for a model (nothing is set).

    Args:
        config: A network name (``"cnn"``: its encoder and decoder), a model config mapping or a ``ModelConfig``
            (its ``model``, ``encoder`` and ``decoder``; those missing: ``ModelConfig``'s defaults).

    Returns:
        ``(flags, sources, notes)``: the flags, which entry asked for which, and entries skipped and why.

    Example:
        >>> xla_flags_for("mlp")[0]
        ()
    """
    jaxlib, notes = _installed_jaxlib(), list[str]()
    sources: dict[str, list[str]] = {}
    for kind, name in _names(config).items():
        flags = _entry_flags(kind, name, jaxlib, notes)
        if flags:
            sources[f"{kind}:{name}"] = flags
    return combine_flags(*sources.values()), sources, notes


def _jax_started() -> bool:
    """Whether JAX already created a backend in this process (then ``XLA_FLAGS`` is read already)."""
    bridge = sys.modules.get("jax._src.xla_bridge")
    return bool(getattr(bridge, "_backends", None))


def tune_xla(
    config: str | Mapping[str, Any] | Any = None,
    *,
    enabled: bool = True,
    environ: MutableMapping[str, str] | None = None,
) -> XlaTuning:
    """Set ``XLA_FLAGS`` to the flags measured fastest (and correct) for a model, before JAX starts.

    Call it before the first JAX computation of the process (importing JAX is fine; computing is too late).

    Args:
        config: A network name such as ``"cnn"`` (encoder and decoder), a model config mapping or a
            ``ModelConfig``; None: ``ModelConfig``'s default model, encoder and decoder.
        enabled: False records mode ``"off"`` and sets nothing (as ``--no-xla-tuning``).
        environ: The environment to read and change (default ``os.environ``).

    Returns:
        The decision, also kept for :func:`last_xla_tuning` (and ``config.json``).

    Example:
        At the top of a script, before JAX computes anything::

            from artifex_core import tune_xla

            print(tune_xla("cnn").describe())
            # XLA flags (auto, from encoders:cnn, decoders:cnn): --xla_cpu_experimental_ynn_fusion_type=dot,eltwise,reduce
    """
    global _LAST, _SET_BY_US
    env = os.environ if environ is None else environ
    user = env.get("XLA_FLAGS")
    if user is not None and user != _SET_BY_US:
        decision = XlaTuning("user", tuple(user.split()), applied=True)
    elif not enabled or env.get(XLA_TUNING_ENV, "").strip().lower() in _OFF_VALUES:
        if user is not None and user == _SET_BY_US:  # ours, from an earlier call: taken back
            env.pop("XLA_FLAGS", None)
            _SET_BY_US = None
        decision = XlaTuning("off")
    else:
        flags, sources, notes = xla_flags_for(config if config is not None else {})
        started = _jax_started()
        if flags and not started:
            env["XLA_FLAGS"] = _SET_BY_US = " ".join(flags)
        elif not started and user is not None:  # ours from an earlier call, not wanted now
            env.pop("XLA_FLAGS", None)
            _SET_BY_US = None
        decision = XlaTuning("auto", flags, bool(flags) and not started, sources, tuple(notes))
    _LAST = decision
    return decision


def last_xla_tuning() -> XlaTuning:
    """The last :func:`tune_xla` decision of this process, or what ``XLA_FLAGS`` says if none was made.

    Example:
        >>> last_xla_tuning().mode in {"auto", "user", "off", "none"}
        True
    """
    if _LAST is not None:
        return _LAST
    user = os.environ.get("XLA_FLAGS")
    return XlaTuning("user", tuple(user.split()), applied=True) if user else XlaTuning("none")
