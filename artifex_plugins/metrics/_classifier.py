"""A small MLP classifier that judges conditional samples: does a sample drawn for class ``c`` look like ``c``?

Train it once on the real training data (:func:`train_classifier`), cache it in the run folder as a NumPy
``.npz`` file (:func:`save_classifier` / :func:`load_classifier`, or both through
:func:`load_or_train_classifier`; never pickle), then score samples with :func:`classifier_accuracy`.

Inputs are images or vectors ``(N, ...)`` in [0, 1] (``uint8`` 0..255 is scaled), flattened inside.

Example:
    >>> import numpy as np
    >>> x = np.concatenate([np.zeros((32, 4)), np.ones((32, 4))]).astype(np.float32)
    >>> y = np.repeat([0, 1], 32)
    >>> clf = train_classifier(x, y, num_classes=2, hidden_dims=(8,), epochs=20, batch_size=16)
    >>> classifier_accuracy(clf, x, y)
    1.0
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from artifex_core.evaluation import EvalData, Metric

__all__ = [
    "Classifier",
    "ConditionalSampleAccuracy",
    "classifier_accuracy",
    "load_classifier",
    "load_or_train_classifier",
    "predict",
    "read_header",
    "save_classifier",
    "train_classifier",
]

_FORMAT = "artifex-classifier-v1"


def _as_float(x: Any) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype == np.uint8:
        return a.astype(np.float32) / np.float32(255.0)
    return a.astype(np.float32, copy=False)


class Classifier(nnx.Module):
    """An MLP ``(N, *input_shape) -> (N, num_classes)`` logits with ReLU hidden layers.

    Args:
        input_shape: Shape of one example, e.g. ``(28, 28, 1)``.
        num_classes: Number of classes.
        hidden_dims: Hidden layer widths.
        rngs: Initialisation randomness.

    Example:
        >>> clf = Classifier((2, 2), 3, (5,), rngs=nnx.Rngs(0))
        >>> clf(jnp.zeros((4, 2, 2))).shape
        (4, 3)
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        hidden_dims: Sequence[int] = (256, 256),
        *,
        rngs: nnx.Rngs,
    ) -> None:
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")
        self.input_shape = tuple(int(d) for d in input_shape)
        self.num_classes = int(num_classes)
        self.hidden_dims = tuple(int(h) for h in hidden_dims)
        widths = [math.prod(self.input_shape), *self.hidden_dims, self.num_classes]
        self.layers = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in zip(widths[:-1], widths[1:])])

    @property
    def config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-ready."""
        return {
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "hidden_dims": list(self.hidden_dims),
        }

    def __call__(self, x: jax.Array) -> jax.Array:
        h = jnp.reshape(x, (x.shape[0], -1))
        for layer in self.layers[:-1]:
            h = jax.nn.relu(layer(h))
        return self.layers[-1](h)


def train_classifier(
    x: Any,
    y: Any,
    *,
    num_classes: int | None = None,
    hidden_dims: Sequence[int] = (256, 256),
    epochs: int = 3,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> Classifier:
    """Train a :class:`Classifier` with Adam on cross-entropy; each epoch is one jitted ``lax.scan``.

    Args:
        x: Training inputs ``(N, ...)`` in [0, 1] (or ``uint8``).
        y: Integer labels ``(N,)``.
        num_classes: Defaults to ``max(y) + 1``.
        hidden_dims: Hidden layer widths.
        epochs: Passes over the data (reshuffled each epoch; a last partial batch is dropped).
        batch_size: Examples per step (capped at ``N``).
        learning_rate: Adam step size.
        seed: Initialisation and shuffling seed.

    Raises:
        ValueError: On mismatched lengths, labels out of range or no data.

    Example:
        >>> xs = np.array([[0.0], [1.0]] * 8, np.float32); ys = np.array([0, 1] * 8)
        >>> train_classifier(xs, ys, hidden_dims=(4,), epochs=1).num_classes
        2
    """
    xs, ys = _as_float(x), np.asarray(y).astype(np.int32)
    if xs.shape[0] == 0 or xs.shape[0] != ys.shape[0] or ys.ndim != 1:
        raise ValueError(f"need matching non-empty x {xs.shape} and labels (N,), got {ys.shape}")
    num_classes = int(ys.max()) + 1 if num_classes is None else int(num_classes)
    if ys.min() < 0 or ys.max() >= num_classes:
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    model = Classifier(xs.shape[1:], max(num_classes, 2), hidden_dims, rngs=nnx.Rngs(seed))
    graphdef, params = nnx.split(model)
    tx = optax.adam(learning_rate)
    opt_state = tx.init(params)
    n = xs.shape[0]
    batch_size = min(int(batch_size), n)
    steps = n // batch_size
    data_x, data_y = jnp.asarray(xs), jnp.asarray(ys)

    def loss(p: Any, xb: jax.Array, yb: jax.Array) -> jax.Array:
        logits = nnx.merge(graphdef, p)(xb)
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    @jax.jit
    def epoch(p: Any, o: Any, key: jax.Array) -> tuple[Any, Any, jax.Array]:
        order = jax.random.permutation(key, n)[: steps * batch_size].reshape(steps, batch_size)

        def step(carry: tuple[Any, Any], idx: jax.Array) -> tuple[tuple[Any, Any], jax.Array]:
            p, o = carry
            value, grads = jax.value_and_grad(loss)(p, data_x[idx], data_y[idx])
            updates, o = tx.update(grads, o, p)
            return (optax.apply_updates(p, updates), o), value

        (p, o), values = jax.lax.scan(step, (p, o), order)
        return p, o, values.mean()

    key = jax.random.key(seed)
    for e in range(int(epochs)):
        params, opt_state, _ = epoch(params, opt_state, jax.random.fold_in(key, e))
    return nnx.merge(graphdef, params)


def predict(classifier: Classifier, x: Any, *, batch_size: int = 1000) -> np.ndarray:
    """Predicted class of each input: ``(N,)`` ``int64``.

    Example:
        >>> clf = Classifier((1,), 2, (), rngs=nnx.Rngs(0))
        >>> predict(clf, np.zeros((3, 1))).shape
        (3,)
    """
    xs = _as_float(x)
    graphdef, state = nnx.split(classifier)
    fn = jax.jit(lambda s, xb: jnp.argmax(nnx.merge(graphdef, s)(xb), axis=-1))
    parts = [np.asarray(fn(state, xs[i : i + batch_size])) for i in range(0, xs.shape[0], batch_size)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros((0,), np.int64)


def classifier_accuracy(classifier: Classifier, samples: Any, labels: Any, *, batch_size: int = 1000) -> float:
    """Fraction of ``samples`` the classifier assigns to their intended ``labels``.

    Args:
        classifier: A trained :class:`Classifier`.
        samples: Generated (or real) inputs ``(N, ...)`` in [0, 1]; the model's data-space samples.
        labels: The classes they were generated for, ``(N,)`` (one-hot rows are accepted).
        batch_size: Inputs per jitted call.

    Raises:
        ValueError: On mismatched lengths or no samples.

    Example:
        >>> clf = Classifier((1,), 2, (), rngs=nnx.Rngs(0))
        >>> 0.0 <= classifier_accuracy(clf, np.zeros((4, 1)), np.array([0, 1, 0, 1])) <= 1.0
        True
    """
    y = np.asarray(labels)
    if y.ndim == 2:
        y = y.argmax(axis=-1)
    n = np.asarray(samples).shape[0]
    if n == 0 or y.shape != (n,):
        raise ValueError(f"need {n} > 0 labels of shape ({n},), got {np.asarray(labels).shape}")
    return float(np.mean(predict(classifier, samples, batch_size=batch_size) == y))


def save_classifier(classifier: Classifier, path: str | Path, **metadata: Any) -> Path:
    """Write the classifier's config and weights to an ``.npz`` file (atomically; no pickle).

    Extra ``metadata`` (JSON-serialisable, e.g. ``test_accuracy=0.98``) is stored alongside.

    Example:
        >>> import tempfile
        >>> clf = Classifier((2,), 2, (3,), rngs=nnx.Rngs(0))
        >>> p = save_classifier(clf, Path(tempfile.mkdtemp()) / "clf.npz", test_accuracy=0.5)
        >>> load_classifier(p).config == clf.config
        True
    """
    path = Path(path)
    leaves = jax.tree_util.tree_flatten_with_path(nnx.state(classifier))[0]
    arrays = {f"w{jax.tree_util.keystr(p)}": np.asarray(v) for p, v in leaves}
    header = {"format": _FORMAT, "config": classifier.config, "metadata": metadata}
    arrays["header"] = np.array(json.dumps(header))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, allow_pickle=False, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_header(path: str | Path) -> dict[str, Any]:
    """The JSON header (format, config, metadata) of a saved classifier."""
    with np.load(path, allow_pickle=False) as f:
        header = json.loads(str(f["header"]))
    if header.get("format") != _FORMAT:
        raise ValueError(f"{path}: not an artifex classifier file (format {header.get('format')!r})")
    return header


def load_classifier(path: str | Path) -> Classifier:
    """Rebuild a classifier saved by :func:`save_classifier`.

    Raises:
        ValueError: If the file is not a classifier file or its weights do not fit its config.
        OSError: If it cannot be read.
    """
    header = read_header(path)
    cfg = header["config"]
    model = Classifier(cfg["input_shape"], cfg["num_classes"], cfg["hidden_dims"], rngs=nnx.Rngs(0))
    state = nnx.state(model)
    leaves, treedef = jax.tree_util.tree_flatten_with_path(state)
    values = []
    with np.load(path, allow_pickle=False) as f:
        for p, v in leaves:
            key = f"w{jax.tree_util.keystr(p)}"
            if key not in f.files or f[key].shape != v.shape:
                raise ValueError(f"{path}: weight {key} missing or of the wrong shape")
            values.append(jnp.asarray(f[key]))
    nnx.update(model, jax.tree_util.tree_unflatten(treedef, values))
    return model


def load_or_train_classifier(
    path: str | Path,
    x: Any,
    y: Any,
    *,
    num_classes: int | None = None,
    hidden_dims: Sequence[int] = (256, 256),
    epochs: int = 3,
    batch_size: int = 128,
    seed: int = 0,
    x_test: Any = None,
    y_test: Any = None,
) -> tuple[Classifier, dict[str, Any]]:
    """Load the cached classifier at ``path`` if it fits the data and settings, else train and cache it.

    A cached file is reused when its config (input shape, classes, hidden widths) and its training settings
    (``epochs``, ``batch_size``, ``seed``, training-set size) match. With ``x_test`` / ``y_test`` the
    classifier's accuracy on real test data is measured once and stored (``metadata["test_accuracy"]``),
    the ceiling a conditional model's sample accuracy is compared with.

    Returns:
        ``(classifier, metadata)``; ``metadata["cached"]`` says whether it was loaded.

    Example:
        >>> import tempfile
        >>> xs = np.array([[0.0], [1.0]] * 8, np.float32); ys = np.array([0, 1] * 8)
        >>> p = Path(tempfile.mkdtemp()) / "clf.npz"
        >>> _, meta = load_or_train_classifier(p, xs, ys, hidden_dims=(4,), epochs=1)
        >>> load_or_train_classifier(p, xs, ys, hidden_dims=(4,), epochs=1)[1]["cached"]
        True
    """
    xs, ys = np.asarray(x), np.asarray(y)
    num_classes = int(ys.max()) + 1 if num_classes is None else int(num_classes)
    config = {
        "input_shape": list(xs.shape[1:]),
        "num_classes": max(num_classes, 2),
        "hidden_dims": [int(h) for h in hidden_dims],
    }
    training = {"epochs": int(epochs), "batch_size": int(batch_size), "seed": int(seed), "train_size": len(xs)}
    path = Path(path)
    if path.is_file():
        try:
            header = read_header(path)
            if header["config"] == config and header["metadata"].get("training") == training:
                return load_classifier(path), {**header["metadata"], "cached": True}
        except (OSError, ValueError, KeyError):
            pass  # unreadable or stale: retrain
    clf = train_classifier(
        xs, ys, num_classes=num_classes, hidden_dims=hidden_dims, epochs=epochs, batch_size=batch_size, seed=seed
    )
    metadata: dict[str, Any] = {"training": training}
    if x_test is not None and y_test is not None:
        metadata["test_accuracy"] = classifier_accuracy(clf, x_test, y_test)
    save_classifier(clf, path, **metadata)
    return clf, {**metadata, "cached": False}


class ConditionalSampleAccuracy(Metric):
    """How often a classifier trained on the real data labels class-conditional samples as their class.

    Applies to conditional runs (``model_config.conditional``). The classifier is trained on the run's
    training split once and cached in the run folder as ``classifier.npz``; its accuracy on the real test
    split is the ceiling to compare with. Figures: ``sample_accuracy``, ``classifier_test_accuracy``,
    ``samples_per_class``, ``classifier_cached``.

    Args:
        samples_per_class: Samples drawn for each class.

    Example:
        >>> ConditionalSampleAccuracy(samples_per_class=10).samples_per_class
        10
    """

    def __init__(self, *, samples_per_class: int = 100) -> None:
        if int(samples_per_class) < 1:
            raise ValueError(f"samples_per_class must be >= 1, got {samples_per_class}")
        self.samples_per_class = int(samples_per_class)

    def applies(self, run: Any) -> bool:
        """The run's model is conditional."""
        return bool(run.model_config.conditional)

    def compute(self, run: Any, data: EvalData, *, seed: int) -> dict[str, Any]:
        """Sample ``samples_per_class`` images per class and score them with the cached classifier.

        Raises:
            ValueError: When the dataset has no training labels.
        """
        from artifex_core.training._pictures import sample_images

        ds = data.dataset
        if ds is None or ds.train_labels is None:
            raise ValueError("conditional sample accuracy needs a dataset with training labels")
        num_classes = int(run.model_config.num_classes or 0)
        clf, meta = load_or_train_classifier(
            run.run_dir.path / "classifier.npz", ds.x_train, ds.train_labels, num_classes=num_classes,
            x_test=ds.x_test, y_test=ds.test_labels,
        )
        labels = np.repeat(np.arange(num_classes), self.samples_per_class)
        samples = sample_images(run.model, len(labels), labels=labels, seed=seed)
        return {
            "sample_accuracy": classifier_accuracy(clf, samples, labels),
            "classifier_test_accuracy": meta.get("test_accuracy"),
            "samples_per_class": self.samples_per_class,
            "classifier_cached": bool(meta.get("cached")),
        }
