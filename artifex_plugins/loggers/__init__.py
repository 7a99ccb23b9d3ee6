"""The built-in plugin's experiment-tracking loggers (``artifex train --logger NAME``).

- ``tensorboard``: :class:`~artifex_plugins.loggers.tensorboard.TensorBoardLogger`, event files in
  ``RUN/tensorboard/`` (tensorboardX).

Importing this package imports no writer library; each logger imports its own when it is built.
"""

from __future__ import annotations

from artifex_plugins.loggers.tensorboard import TensorBoardLogger

__all__ = ["TensorBoardLogger"]
