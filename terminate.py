#!/usr/bin/env python3
"""Removes what run.py deployed and waits until it is gone; see ``python terminate.py --help``.

Works from any directory: Python puts this file's directory first on sys.path.
"""

from __future__ import annotations

from asky_scripts.cli.terminate import main

if __name__ == "__main__":
    raise SystemExit(main())
