"""The errors of a registry lookup: a name nothing answers to, or one that several plugins register.

Both are :class:`LookupError` subclasses whose message says what to do (close matches, qualified ids).

Example:
    >>> print(UnknownNameError("model", "bta_vae", ["beta_vae", "conditional_vae"]))
    unknown model 'bta_vae'; did you mean 'beta_vae'? (available: beta_vae, conditional_vae)
"""

from __future__ import annotations

import difflib

__all__ = ["AmbiguousNameError", "UnknownNameError"]


class UnknownNameError(LookupError):
    """A name that no registry entry answers to; the message lists close matches."""

    def __init__(self, kind: str, name: str, candidates: list[str]) -> None:
        self.kind, self.name = kind, name
        pool = candidates if ":" in name else [c for c in candidates if ":" not in c]
        self.matches = difflib.get_close_matches(name, pool, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(m) for m in self.matches)}?" if self.matches else ""
        available = ", ".join(sorted(c for c in candidates if ":" not in c)) or "none"
        super().__init__(f"unknown {kind} {name!r}{hint} (available: {available})")

    def __str__(self) -> str:  # LookupError would repr() the message
        return str(self.args[0])


class AmbiguousNameError(LookupError):
    """A name registered by several plugins; the message lists their qualified ids."""

    def __init__(self, kind: str, name: str, qualified: list[str]) -> None:
        self.kind, self.name, self.candidates = kind, name, qualified
        super().__init__(
            f"{kind} {name!r} is registered by several plugins: {', '.join(qualified)}; "
            "use one of these qualified ids"
        )

    def __str__(self) -> str:
        return str(self.args[0])
