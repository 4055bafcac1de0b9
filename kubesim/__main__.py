"""``python -m kubesim serve|run``: see ``kubesim/cli.py``."""

from kubesim.cli import main

raise SystemExit(main())
