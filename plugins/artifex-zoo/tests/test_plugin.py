"""The zoo registers through its entry point, like any third-party plugin."""

from importlib.metadata import entry_points


def test_entry_point_is_declared() -> None:
    names = {ep.name: ep.value for ep in entry_points(group="artifex.plugins")}
    assert names.get("zoo") == "artifex_zoo"
