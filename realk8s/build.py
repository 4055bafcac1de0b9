"""Builds the control plane binaries from the Go modules, once per source change, outside the repo.

The binaries land in ``$REALK8S_CACHE`` (default ``~/.cache/asky-scripts/realk8s``), in a
directory named after a hash of what they are built from (the Go sources, go.mod/go.sum, the
version stamp and ``go version``): a change to any of them builds anew, an unchanged tree
builds nothing. Go's own caches (GOMODCACHE, GOCACHE) make a rebuild after a small change quick.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).resolve().parent
KUBERNETES_VERSION = "v1.36.3"
CONTROL_PLANE = "realk8s-control-plane"
KWOK = "kwok"


class BuildError(Exception):
    """``go`` is missing or a build failed; the message carries go's own output."""


@dataclass(frozen=True)
class Target:
    """One binary: the Go module directory it is built in, its package, its version stamp."""

    name: str
    module: Path
    package: str
    ldflags: str

    def inputs(self) -> list[Path]:
        return sorted(
            p for p in self.module.iterdir() if p.suffix == ".go" or p.name in ("go.mod", "go.sum")
        )


def _stamp(package: str, version: str) -> list[str]:
    """``-X`` flags that make the binary report ``version`` instead of v0.0.0-master."""
    major, minor = version.lstrip("v").split(".")[:2]
    return [
        f"-X {package}.{key}={value}"
        for key, value in (("gitVersion", version), ("gitMajor", major), ("gitMinor", minor))
    ]


TARGETS = (
    Target(
        CONTROL_PLANE,
        SOURCE,
        ".",
        " ".join(
            [
                "-s -w",
                *_stamp("k8s.io/component-base/version", KUBERNETES_VERSION),
                *_stamp("k8s.io/client-go/pkg/version", KUBERNETES_VERSION),
            ]
        ),
    ),
    Target(
        KWOK,
        SOURCE / "kwok",
        "sigs.k8s.io/kwok/cmd/kwok",
        "-s -w",  # kwok's version is a constant in its source (pkg/consts): nothing to stamp
    ),
)


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise BuildError("go is not on PATH: install Go 1.26 or newer to build the control plane")
    return go


def _go_version(go: str) -> str:
    return subprocess.run([go, "version"], capture_output=True, text=True, check=True).stdout


def cache_root() -> Path:
    named = os.environ.get("REALK8S_CACHE")
    if named:
        return Path(named)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "asky-scripts" / "realk8s"


def build_key(go_version: str) -> str:
    digest = hashlib.sha256(go_version.encode())
    for target in TARGETS:
        digest.update(f"{target.name}\0{target.package}\0{target.ldflags}\0".encode())
        for path in target.inputs():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def built_dir() -> Path | None:
    """Where the binaries of this source tree are, when both are built (else None)."""
    go = shutil.which("go")
    if go is None:
        return None
    directory = cache_root() / build_key(_go_version(go))
    return directory if all((directory / t.name).is_file() for t in TARGETS) else None


def build(say: Callable[[str], None] = print) -> Path:
    """Build whatever binary is missing; return the directory holding them all."""
    go = _go()
    directory = cache_root() / build_key(_go_version(go))
    directory.mkdir(parents=True, exist_ok=True)
    for target in TARGETS:
        binary = directory / target.name
        if binary.is_file():
            say(f"realk8s: {target.name} is built ({binary})")
            continue
        say(f"realk8s: building {target.name} (module {target.module.name}/) ...")
        started = time.monotonic()
        partial = binary.with_suffix(".partial")
        result = subprocess.run(
            [
                go,
                "build",
                "-trimpath",
                "-ldflags",
                target.ldflags,
                "-o",
                str(partial),
                target.package,
            ],
            cwd=target.module,
            env={**os.environ, "CGO_ENABLED": "0"},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BuildError(
                f"go build of {target.name} in {target.module} failed "
                f"(exit {result.returncode}):\n{result.stderr.strip()}"
            )
        partial.replace(binary)
        say(f"realk8s: built {binary} in {time.monotonic() - started:.0f}s")
    return directory
