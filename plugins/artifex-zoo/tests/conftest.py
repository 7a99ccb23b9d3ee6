"""The plugin's tests use artifex's tools for plugin authors (fixtures and conformance checks)."""

pytest_plugins = ["artifex_core.testing"]
