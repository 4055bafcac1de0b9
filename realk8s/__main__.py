"""``python -m realk8s build|run``: see ``realk8s/cli.py``."""

from realk8s.cli import main

raise SystemExit(main())
