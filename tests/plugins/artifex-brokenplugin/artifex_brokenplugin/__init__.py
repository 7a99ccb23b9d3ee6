"""A plugin whose import fails: artifex must report it and keep working."""

raise RuntimeError("artifex_brokenplugin is broken on purpose")
