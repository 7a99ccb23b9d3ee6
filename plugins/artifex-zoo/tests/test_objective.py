"""The shared objective assembly: weighted penalties added to ``loss`` in the spec's keys, by hand."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from artifex_zoo import penalised_terms


def _terms() -> dict[str, jax.Array]:
    return {"reconstruction_loss": jnp.array(2.0), "kl_loss": jnp.array(1.5), "loss": jnp.array(3.5)}


def test_penalties_are_weighted_summed_and_reported() -> None:
    out = penalised_terms(_terms(), {"off": (10.0, jnp.array(0.25)), "diag": (100.0, jnp.array(0.5))})
    assert float(out["loss"]) == pytest.approx(3.5 + 10.0 * 0.25 + 100.0 * 0.5)  # 56.0
    assert float(out["off"]) == 0.25 and float(out["diag"]) == 0.5
    assert float(out["reconstruction_loss"]) == 2.0 and float(out["kl_loss"]) == 1.5
    assert list(out) == ["reconstruction_loss", "kl_loss", "loss", "off", "diag"]  # loss keeps its place


def test_extra_terms_are_reported_not_added() -> None:
    out = penalised_terms(_terms(), {"tc": (2.0, jnp.array(0.75))}, extra={"disc": jnp.array(100.0)})
    assert float(out["loss"]) == pytest.approx(3.5 + 2.0 * 0.75)
    assert float(out["disc"]) == 100.0


def test_without_loss_the_sum_starts_at_the_reconstruction() -> None:
    out = penalised_terms({"reconstruction_loss": jnp.array(4.0)}, {"kl_loss": (0.25, jnp.array(2.0))})
    assert float(out["loss"]) == pytest.approx(4.0 + 0.25 * 2.0)
    assert list(out) == ["reconstruction_loss", "kl_loss", "loss"]


def test_no_penalty_leaves_the_terms_and_the_input_unchanged() -> None:
    terms = _terms()
    out = penalised_terms(terms, {})
    assert {k: float(v) for k, v in out.items()} == {k: float(v) for k, v in terms.items()}
    penalised_terms(terms, {"mmd_loss": (3.0, jnp.array(1.0))})
    assert set(terms) == {"reconstruction_loss", "kl_loss", "loss"} and float(terms["loss"]) == 3.5


def test_gradient_flows_through_each_weight() -> None:
    grad = jax.grad(lambda v: penalised_terms(_terms(), {"a": (3.0, v), "b": (0.5, v * v)})["loss"])(jnp.array(2.0))
    assert float(grad) == pytest.approx(3.0 + 0.5 * 2 * 2.0)
