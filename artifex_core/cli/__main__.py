"""``python -m artifex_core.cli``: the ``artifex`` command, for environments without the console script."""

from artifex_core.cli import main

if __name__ == "__main__":
    main()
