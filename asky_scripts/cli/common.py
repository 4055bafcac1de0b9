"""What run.py's and terminate.py's command lines share: the parser that returns exit code 2
instead of exiting, the flags both accept, and how both reach the cluster.

One place, so the two commands can never disagree on what ``--timeout 0`` or ``-n Bad_Name``
means, or on which kubectl and kubeconfig they use.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import NoReturn, Protocol, TextIO, TypeVar

from asky_scripts.cli.error_handler import (
    ReportsEndings,
    quiet_when_output_closed,
    run_reported,
)
from asky_scripts.cli.output import JsonReport, TextReport, wants_color
from asky_scripts.cluster.connection import check_kubeconfig
from asky_scripts.cluster.kubectl import Kubectl, RetryNotice
from asky_scripts.cluster.programs import find_kubectl
from asky_scripts.errors import ExitCode, UsageError
from asky_scripts.model.manifests import DEFAULT_NAMESPACE, check_namespace_name

DEFAULT_TIMEOUT_SECONDS = 300.0

TextT = TypeVar("TextT", bound=TextReport)
JsonT = TypeVar("JsonT", bound=JsonReport)


class ShowsCommands(Protocol):
    """The part of a report that shows kubectl commands (-v) and their retries."""

    def command(self, argv: tuple[str, ...]) -> None: ...

    def retry(self, notice: RetryNotice) -> None: ...


class CliParser(argparse.ArgumentParser):
    """argparse that raises UsageError, so main() returns 2 instead of exiting from inside."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=f"see {self.prog} --help")


def timeout_seconds(text: str) -> float:
    """``--timeout``: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def namespace_name(text: str) -> str:
    """``--namespace``: a valid namespace name (checked before any kubectl runs)."""
    try:
        check_namespace_name(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(f"{exc.message}: {exc.hint}") from None
    return text


def add_target_arguments(parser: argparse.ArgumentParser, *, timeout_help: str) -> None:
    """Where the command acts: context, kubeconfig, namespace, and how long it may wait."""
    parser.add_argument("--context", help="kube context (default: the current context)")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: kubectl's)")
    parser.add_argument(
        "--namespace", "-n", type=namespace_name, default=DEFAULT_NAMESPACE, help="default: asky"
    )
    parser.add_argument(
        "--timeout", type=timeout_seconds, default=DEFAULT_TIMEOUT_SECONDS, help=timeout_help
    )


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """How the command talks: text or JSON lines, verbosity, and the kubectl it runs."""
    parser.add_argument("--output", "-o", choices=("text", "json"), default="text")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--kubectl", help="kubectl binary (default: $KUBECTL, then PATH)")


def parse(
    parser: argparse.ArgumentParser, argv: list[str] | None, err: TextIO
) -> argparse.Namespace | int:
    """The parsed arguments, or the exit code to return at once (2 on bad usage, 0 on --help)."""
    try:
        return parser.parse_args(argv)
    except UsageError as exc:
        print(f"{parser.prog}: error: {exc.message}\nhint: {exc.hint}", file=err)
        return int(ExitCode.BAD_INPUT)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)


class Steps(Protocol):
    """A command's work once its flags are parsed: ``stage()`` names the step running."""

    def run(self) -> int: ...

    def stage(self) -> str: ...


def run_command(
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    out: TextIO,
    err: TextIO,
    steps_of: Callable[[argparse.Namespace], tuple[ReportsEndings, Steps]],
    started: float,
) -> int:
    """Every main(): parse, choose the report and the steps, run them; error_handler.py ends it."""

    def parsed_and_run() -> int:
        args = parse(parser, argv, err)
        if isinstance(args, int):
            return args
        report, steps = steps_of(args)
        return run_reported(steps.run, report, steps.stage, started)

    return quiet_when_output_closed(parsed_and_run, out, err)


def choose_report(
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    environ: Mapping[str, str],
    *,
    text: type[TextT],
    json: type[JsonT],
    live: bool,
) -> TextT | JsonT:
    """JSON lines with ``--output json``; else text, coloured and (when ``live``) with a live
    line only on a terminal.  -q makes the verbosity -1, each -v adds one."""
    verbosity = -1 if args.quiet else int(args.verbose)
    if args.output == "json":
        return json(out, verbosity=verbosity)
    return text(
        out,
        err,
        color=wants_color(out, environ),
        live=live and out.isatty() and verbosity >= 0,
        verbosity=verbosity,
    )


def connect(args: argparse.Namespace, environ: Mapping[str, str], report: ShowsCommands) -> Kubectl:
    """The kubectl both commands run, after checking the kubeconfig they were pointed at."""
    check_kubeconfig(args.kubeconfig, environ)
    return Kubectl(
        find_kubectl(args.kubectl, environ),
        context=args.context,
        kubeconfig=args.kubeconfig,
        env=environ,
        on_retry=report.retry,
        on_command=report.command,
    )
