#!/usr/bin/env python3
"""Deploys Asky to the current Kubernetes context; see ``python run.py --help``.

Works from any directory: Python puts this file's directory first on sys.path, and the
manifests are found relative to the package, not the current directory.
"""

from __future__ import annotations

from asky_scripts.cli.run import main

if __name__ == "__main__":
    raise SystemExit(main())
