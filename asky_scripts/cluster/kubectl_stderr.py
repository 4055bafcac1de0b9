"""Reading kubectl's stderr: the facts without its framing, advice and client-go's log lines.

kubectl wraps the server's words in its own ("Error from server (Forbidden): ...") and adds
advice about flags run.py and terminate.py do not have; users are shown the facts only.
"""

from __future__ import annotations

import re

_BOILERPLATE_PREFIXES = (
    "Please review the fields above",
    "are the ways you can resolve",
    "warning:",
    "Warning:",
)


# kubectl's framing around the server's or client-go's own words: who answered, which stdin
# document, and advice about kubectl flags that run.py and terminate.py do not have.
_FRAMING = re.compile(
    r"^(?:error: |Error from server(?: \(\w+\))?: |Error in configuration: |"
    r'error when (?:creating|applying patch|retrieving current configuration of) "[^"]*": |'
    r'error validating "[^"]*": )+'
)
_KUBECTL_ADVICE = (
    "; if you choose to ignore these errors, turn validation off with --validate=false"
)


def plain_message(summary: str) -> str:
    """The facts of a summarized kubectl error without kubectl's framing, line by line."""
    return "\n".join(
        _FRAMING.sub("", line).replace(_KUBECTL_ADVICE, "") for line in summary.splitlines()
    )


# client-go's log lines (klog: severity, date, time, pid, file:line), e.g. the discovery
# cache's "Couldn't get current server API group list" before kubectl's own one-line error.
_KLOG_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\] ")


def summarize_stderr(stderr: str) -> str:
    """kubectl's stderr without its advice paragraphs, warnings and client-go's log lines
    (unless they are all it said), kept to the facts."""
    lines: list[str] = []
    for raw in stderr.splitlines():
        line = raw.strip()
        if not line:
            if lines:
                break  # the advice paragraphs after a conflict list start after a blank line
            continue
        if line.startswith(_BOILERPLATE_PREFIXES):
            continue
        lines.append(line)
    said = [line for line in lines if not _KLOG_LINE.match(line)]
    return "\n".join(said or lines[-1:])
