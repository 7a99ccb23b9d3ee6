"""The evaluation loop over registered metrics: selection, options, applies/compute, failures, the report."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from artifex_core import ModelConfig
from artifex_core.data import Dataset
from artifex_core.evaluation import EvalData, Metric
from artifex_core import AmbiguousNameError, PluginInfo, Registry, UnknownNameError, registering_as
from artifex_core.training import TrainConfig
from artifex_core.training import MetricOptionError, evaluate_run, load_test_split, select_metrics


class _Model:
    def __init__(self) -> None:
        self.evals = 0

    def eval(self) -> None:
        self.evals += 1


class Count(Metric):
    """Counts the test examples; ``k`` is a shared option, ``scale`` its own."""

    def __init__(self, *, k: int = 10, scale: int = 1) -> None:
        self.k, self.scale = k, scale

    def compute(self, run: Any, data: EvalData, *, seed: int) -> dict[str, Any]:
        return {"n": self.scale * len(data.x_test), "k": self.k, "seed": seed, "labels": data.y_test is not None}


class Checked(Metric):
    def __init__(self, *, k: int = 1) -> None:
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")

    def compute(self, run: Any, data: EvalData, *, seed: int) -> dict[str, Any]:  # pragma: no cover
        return {}


class Never(Metric):
    def applies(self, run: Any) -> bool:
        return False

    def compute(self, run: Any, data: EvalData, *, seed: int) -> dict[str, Any]:  # pragma: no cover
        raise AssertionError("a metric that does not apply is not computed")


class Fails(Metric):
    def compute(self, run: Any, data: EvalData, *, seed: int) -> dict[str, Any]:
        raise ValueError("cannot score this")


class NotADict(Metric):
    def compute(self, run: Any, data: EvalData, *, seed: int) -> Any:
        return 3.0


@pytest.fixture
def dataset() -> Dataset:
    rng = np.random.default_rng(0)
    x = (rng.random((30, 2, 2, 1)) * 255).astype(np.uint8)
    return Dataset.from_arrays("toy", x[:20], np.arange(20) % 2, x[20:], np.arange(10) % 2)


@pytest.fixture
def run(tmp_path: Path) -> SimpleNamespace:
    return SimpleNamespace(
        model=_Model(),
        model_config=ModelConfig(model="vae", input_dim=[2, 2, 1], latent_dim=2, hidden_dims=[4]),
        train_config=TrainConfig(dataset="toy", binarize="none"),
        epoch=3,
        run_dir=SimpleNamespace(path=tmp_path),
    )


def _registry(**targets: Any) -> Registry:
    reg = Registry("metric")
    for name, target in targets.items():
        reg.register(name, target)
    return reg


def test_report_layout_and_every_applying_metric(run: SimpleNamespace, dataset: Dataset) -> None:
    reg = _registry(count=Count, never=Never)
    report = evaluate_run(run, dataset=dataset, registry=reg, seed=7)
    assert report["metrics"] == {"count": {"n": 10, "k": 10, "seed": 7, "labels": True}}  # never: skipped silently
    assert report["failed"] == [] and list(report["time_s"]) == ["count"]
    assert {k: report[k] for k in ("run_dir", "model", "dataset", "checkpoint_epoch", "test_examples")} == {
        "run_dir": str(run.run_dir.path), "model": "vae", "dataset": "toy", "checkpoint_epoch": 3, "test_examples": 10,
    }
    json.dumps(report)  # JSON-ready
    assert run.model.evals >= 1  # metrics see the model in eval mode


def test_named_metrics_run_alone_and_say_when_they_do_not_apply(run: SimpleNamespace, dataset: Dataset) -> None:
    reg = _registry(count=Count, never=Never, fails=Fails)
    report = evaluate_run(run, dataset=dataset, registry=reg, metrics=["never", "count"], limit=4)
    assert report["metrics"] == {"never": {"skipped": "does not apply to this run"},
                                 "count": {"n": 4, "k": 10, "seed": 0, "labels": True}}
    with pytest.raises(UnknownNameError, match="unknown metric 'cuont'; did you mean 'count'"):
        evaluate_run(run, dataset=dataset, registry=reg, metrics=["cuont"])


def test_shared_and_own_options_are_checked_against_each_metric(run: SimpleNamespace, dataset: Dataset) -> None:
    reg = _registry(count=Count, fails=Fails)
    report = evaluate_run(run, dataset=dataset, registry=reg, metrics=["count"], options={"count": {"scale": 3}}, k=5)
    assert report["metrics"]["count"]["n"] == 30 and report["metrics"]["count"]["k"] == 5
    with pytest.raises(MetricOptionError, match=r"metric 'count' has no option 'scael' \(its options: k, scale\)"):
        evaluate_run(run, dataset=dataset, registry=reg, options={"count": {"scael": 3}})
    with pytest.raises(MetricOptionError, match="no registered metric has the option 'kk'"):
        evaluate_run(run, dataset=dataset, registry=reg, kk=5)
    with pytest.raises(MetricOptionError, match="options given for metric 'fails', which is not run"):
        evaluate_run(run, dataset=dataset, registry=reg, metrics=["count"], options={"fails": {"x": 1}})


def test_a_raising_metric_is_reported_and_the_others_still_run(run: SimpleNamespace, dataset: Dataset) -> None:
    reg = _registry(a_fails=Fails, b_not_a_dict=NotADict, count=Count, d_broken="no_such_module_xyz:Metric")
    seen: list[tuple[str, str]] = []
    report = evaluate_run(run, dataset=dataset, registry=reg, on_error=lambda n, e: seen.append((n, type(e).__name__)))
    assert report["metrics"]["a_fails"] == {"error": "ValueError: cannot score this"}
    assert report["metrics"]["b_not_a_dict"] == {"error": "TypeError: compute returned float, not a dict"}
    assert report["metrics"]["d_broken"]["error"].startswith("ModuleNotFoundError")
    assert report["metrics"]["count"]["n"] == 10
    assert report["failed"] == ["a_fails", "b_not_a_dict", "d_broken"]
    assert seen == [("a_fails", "ValueError"), ("b_not_a_dict", "TypeError"), ("d_broken", "ModuleNotFoundError")]


def test_a_target_that_is_not_a_metric_is_reported(run: SimpleNamespace, dataset: Dataset) -> None:
    report = evaluate_run(run, dataset=dataset, registry=_registry(count=Count, fn="builtins:len"))
    assert report["metrics"]["fn"]["error"].startswith("TypeError: metric 'fn' is registered as builtin_function")
    assert "register a Metric subclass" in report["metrics"]["fn"]["error"] and report["metrics"]["count"]["n"] == 10
    with pytest.raises(MetricOptionError, match="metric 'checked': k must be >= 0"):
        evaluate_run(run, dataset=dataset, registry=_registry(checked=Checked), k=-1)
    instance = _registry(count=Count(k=2))  # an instance is used as it is, without options
    assert evaluate_run(run, dataset=dataset, registry=instance)["metrics"]["count"]["k"] == 2
    with pytest.raises(MetricOptionError, match="takes no options"):
        evaluate_run(run, dataset=dataset, registry=instance, options={"count": {"k": 3}})


def test_two_plugins_registering_one_name_are_reported_by_qualified_id() -> None:
    reg = Registry("metric")
    for plugin in ("one", "two"):
        with registering_as(PluginInfo(plugin)):
            reg.register("score", Count)
    assert list(select_metrics(registry=reg)) == ["one:score", "two:score"]
    assert list(select_metrics(["two:score"], registry=reg)) == ["two:score"]
    with pytest.raises(AmbiguousNameError):
        select_metrics(["score"], registry=reg)


def test_the_test_split_is_what_the_model_saw(run: SimpleNamespace, dataset: Dataset) -> None:
    data = load_test_split(run, dataset=dataset, limit=6)
    assert data.x_test.dtype == np.float32 and data.x_test.shape == (6, 2, 2, 1) and data.dataset is dataset
    np.testing.assert_allclose(data.x_test, dataset.test_images[:6] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, dataset.test_labels[:6])
    run.train_config = TrainConfig(dataset="toy", binarize="dynamic", binarize_seed=4)
    bits = load_test_split(run, dataset=dataset).x_test
    assert set(np.unique(bits).tolist()) <= {0.0, 1.0}
    np.testing.assert_array_equal(bits, load_test_split(run, dataset=dataset).x_test)  # the same seeded bits


class _Events:
    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []

    def start(self, name: str, index: int, total: int) -> None:
        self.seen.append(("start", name, index, total))

    def finish(self, name: str, seconds: float, ok: bool) -> None:
        assert seconds >= 0
        self.seen.append(("finish", name, ok))


def test_progress_counts_the_metrics_that_apply(run: SimpleNamespace, dataset: Dataset) -> None:
    events = _Events()
    reg = _registry(a_count=Count, b_never=Never, c_fails=Fails)
    report = evaluate_run(run, dataset=dataset, registry=reg, progress=events)
    assert events.seen == [("start", "a_count", 1, 2), ("finish", "a_count", True),
                           ("start", "c_fails", 2, 2), ("finish", "c_fails", False)]
    assert report["failed"] == ["c_fails"]
    names: list[str] = []
    evaluate_run(run, dataset=dataset, registry=reg, progress=names.append)  # a plain callable: the names
    assert names == ["a_count", "c_fails"]


def test_save_evaluation_keeps_the_report_and_its_arguments(run: SimpleNamespace, dataset: Dataset) -> None:
    from artifex_core.training import EVALUATION_FILE, read_evaluation, save_evaluation

    report = evaluate_run(run, dataset=dataset, registry=_registry(count=Count), seed=2)
    report["metrics"]["count"]["nan"] = float("nan")
    payload, path = save_evaluation(report, {"seed": 2, "k": None, "checkpoint": "latest"})
    assert path == run.run_dir.path / EVALUATION_FILE
    on_disk = json.loads(path.read_text())  # strict JSON: no NaN
    assert on_disk == payload == read_evaluation(run.run_dir.path)
    assert on_disk["metrics"]["count"] == {"n": 10, "k": 10, "seed": 2, "labels": True, "nan": None}
    assert on_disk["arguments"] == {"seed": 2, "k": None, "checkpoint": "latest"}
    assert on_disk["checkpoint_epoch"] == 3 and on_disk["provenance"]["packages"]["numpy"] == np.__version__
    assert sorted(p.name for p in run.run_dir.path.iterdir()) == [EVALUATION_FILE]  # no temporary file left
    path.write_text("[1, 2]")
    assert read_evaluation(run.run_dir.path) is None  # not an object
