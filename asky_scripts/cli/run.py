"""``python run.py``: the command line of the staged deploy.

With no arguments it does what run.sh did (namespace asky, current kube context, same stage
order) but returns 0 only when everything is really serving.  Exit codes: see ExitCode.
Parse, choose the report, run the steps (deploy_steps.py); error_handler.py says how it ended.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from asky_scripts.cli import common as cli_common
from asky_scripts.cli.deploy_steps import DeploySteps
from asky_scripts.cli.error_handler import ReportsEndings
from asky_scripts.cli.report import DeployJsonReport, DeployTextReport
from asky_scripts.cluster.versions import OLDEST_KUBECTL_MINOR
from asky_scripts.errors import UsageError
from asky_scripts.model.manifests import GATEWAY_TYPES, MANIFESTS_DIR, check_image_reference


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected SVC=VALUE, got {text!r}")
    return name, value


def _replicas(text: str) -> tuple[str, int]:
    name, value = _pair(text)
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{name}: replicas must be a whole number >= 0")
    return name, int(value)


def _image(text: str) -> tuple[str, str]:
    name, image = _pair(text)
    try:
        check_image_reference(image)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(f"{exc.message} ({exc.hint})") from None
    return name, image


def build_parser() -> argparse.ArgumentParser:
    parser = cli_common.CliParser(
        prog="run.py",
        description="Deploy Asky stage by stage and wait until every part is really serving.",
        epilog="exit codes: 0 ready (or --diff: no differences), 1 workload failed (or --diff: "
        "differences), 2 bad input, 3 cluster unreachable/forbidden/not ours or kubectl older "
        f"than 1.{OLDEST_KUBECTL_MINOR}, 4 timeout, 5 kubectl itself failed (a defect: please "
        "report it), "
        "130 interrupted, 143 terminated, 141 output closed (piped into head)",
    )
    cli_common.add_target_arguments(
        parser, timeout_help="seconds each stage may wait (default: 300)"
    )
    parser.add_argument("--replicas", type=_replicas, action="append", default=[], metavar="SVC=N")
    parser.add_argument(
        "--set-image", type=_image, action="append", default=[], metavar="SVC=IMAGE"
    )
    parser.add_argument(
        "--storage-class",
        metavar="NAME",
        help="let this StorageClass provision the database volume instead of the hostPath PV",
    )
    parser.add_argument("--gateway-type", choices=GATEWAY_TYPES)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--dry-run", action="store_true", help="validate everything on the server, change nothing"
    )
    mode.add_argument(
        "--diff", action="store_true", help="show what would change (exit 1 when something would)"
    )
    parser.add_argument(
        "--adopt",
        action="store_true",
        help="take over a deployment made by the original run.sh, keeping its database",
    )
    parser.add_argument(
        "--force-conflicts",
        action="store_true",
        help="take over fields another field manager owns",
    )
    cli_common.add_output_arguments(parser)
    parser.add_argument(
        "--manifests",
        type=Path,
        default=MANIFESTS_DIR,
        help=argparse.SUPPRESS,  # another manifest tree, for tests and forks
    )
    return parser


def main(
    argv: list[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    env = os.environ if environ is None else environ
    started = time.monotonic()

    def steps_of(args: argparse.Namespace) -> tuple[ReportsEndings, cli_common.Steps]:
        report = cli_common.choose_report(
            args, out, err, env, text=DeployTextReport, json=DeployJsonReport, live=True
        )
        return report, DeploySteps(args, report, env, started)

    return cli_common.run_command(build_parser(), argv, out, err, steps_of, started)
