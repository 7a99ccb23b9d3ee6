"""The sample-accuracy classifier: learns separable data, caches to .npz (no pickle), reloads exactly."""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
import pytest

from artifex_plugins.metrics import _classifier as clf_mod
from artifex_plugins.metrics import (
    Classifier,
    classifier_accuracy,
    load_classifier,
    load_or_train_classifier,
    predict,
    save_classifier,
    train_classifier,
)


def blobs(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated 4x4 'images' in [0, 1]: class c lights up row c."""
    rng = np.random.default_rng(seed)
    x, y = [], []
    for c in range(3):
        imgs = rng.uniform(0.0, 0.3, size=(n_per_class, 4, 4, 1))
        imgs[:, c, :, 0] += 0.7
        x.append(imgs)
        y.append(np.full(n_per_class, c))
    return np.concatenate(x).astype(np.float32), np.concatenate(y)


@pytest.fixture(scope="module")
def trained() -> Classifier:
    x, y = blobs(64, seed=0)
    return train_classifier(x, y, hidden_dims=(16,), epochs=15, batch_size=32, learning_rate=1e-2)


def test_learns_separable_data_and_generalises(trained):
    x_test, y_test = blobs(50, seed=1)
    assert classifier_accuracy(trained, x_test, y_test) >= 0.95
    assert trained.num_classes == 3 and trained.input_shape == (4, 4, 1)


def test_accuracy_counts_wrong_labels_and_accepts_one_hot(trained):
    x_test, y_test = blobs(20, seed=2)
    wrong = (y_test + 1) % 3
    assert classifier_accuracy(trained, x_test, wrong) <= 0.05
    one_hot = np.eye(3)[y_test]
    assert classifier_accuracy(trained, x_test, one_hot) == classifier_accuracy(trained, x_test, y_test)
    with pytest.raises(ValueError, match="labels of shape"):
        classifier_accuracy(trained, x_test, y_test[:-1])


def test_uint8_inputs_are_scaled(trained):
    x_test, y_test = blobs(20, seed=3)
    as_uint8 = np.round(x_test * 255).astype(np.uint8)
    np.testing.assert_array_equal(predict(trained, as_uint8), predict(trained, x_test))


def test_untrained_classifier_is_near_chance():
    x, y = blobs(100, seed=4)
    untrained = Classifier((4, 4, 1), 3, (16,), rngs=__import__("flax").nnx.Rngs(0))
    assert classifier_accuracy(untrained, x, y) < 0.8  # learning is what makes it right


def test_save_and_load_round_trip_exactly(trained, tmp_path):
    path = save_classifier(trained, tmp_path / "sub" / "clf.npz", test_accuracy=0.99)
    loaded = load_classifier(path)
    x, _ = blobs(10, seed=5)
    np.testing.assert_array_equal(np.asarray(loaded(jnp.asarray(x))), np.asarray(trained(jnp.asarray(x))))
    assert loaded.config == trained.config
    with np.load(path, allow_pickle=False) as f:  # plain arrays, no pickled objects
        header = json.loads(str(f["header"]))
    assert header["metadata"] == {"test_accuracy": 0.99}
    assert not list(tmp_path.glob("sub/.tmp-*"))  # atomic write left no temporary


def test_load_rejects_foreign_or_damaged_files(tmp_path):
    np.savez(tmp_path / "other.npz", header=np.array(json.dumps({"format": "something-else"})))
    with pytest.raises(ValueError, match="not an artifex classifier file"):
        load_classifier(tmp_path / "other.npz")
    clf = Classifier((2,), 2, (3,), rngs=__import__("flax").nnx.Rngs(0))
    path = save_classifier(clf, tmp_path / "c.npz")
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays.pop(next(k for k in arrays if k != "header"))
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="missing or of the wrong shape"):
        load_classifier(path)


def test_load_or_train_caches_and_retrains_when_stale(tmp_path, monkeypatch):
    x, y = blobs(16, seed=6)
    path = tmp_path / "run" / "classifier.npz"
    first, meta = load_or_train_classifier(path, x, y, hidden_dims=(8,), epochs=2, x_test=x, y_test=y)
    assert not meta["cached"] and 0.0 <= meta["test_accuracy"] <= 1.0 and path.is_file()

    def no_training(*args, **kwargs):
        raise AssertionError("should have loaded the cached classifier")

    monkeypatch.setattr(clf_mod, "train_classifier", no_training)
    second, meta2 = load_or_train_classifier(path, x, y, hidden_dims=(8,), epochs=2)
    assert meta2["cached"] and meta2["test_accuracy"] == meta["test_accuracy"]
    np.testing.assert_array_equal(predict(second, x), predict(first, x))
    with pytest.raises(AssertionError, match="cached"):  # other settings: the cache is stale
        load_or_train_classifier(path, x, y, hidden_dims=(8,), epochs=3)
    monkeypatch.undo()
    path.write_bytes(b"not a zip file")  # a damaged cache is retrained, not an error
    _, meta3 = load_or_train_classifier(path, x, y, hidden_dims=(8,), epochs=2)
    assert not meta3["cached"]


def test_training_rejects_bad_labels():
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        train_classifier(np.zeros((4, 2)), np.array([0, 1, 2, 0]), num_classes=2)
    with pytest.raises(ValueError, match="matching non-empty"):
        train_classifier(np.zeros((4, 2)), np.array([0, 1]))
