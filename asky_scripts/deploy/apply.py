"""Server-side apply of a stage's objects: one kubectl for all, object by object on a flaky API.

The apply asks for the objects back (``-o json``): what the server stored is the first look at
the stage, so a stage whose objects need only to exist is judged without another ``kubectl get``
(see task.py).  A conflict with another field manager is explained with each contested field.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from asky_scripts.cluster.kubectl import FIELD_MANAGER, Kubectl
from asky_scripts.cluster.kubectl_errors import ConflictError, TransientError
from asky_scripts.cluster.objects import Obj
from asky_scripts.errors import ClusterRefusedError
from asky_scripts.model.manifests import Manifest

# Attempts at applying a whole stage's stream before going object by object (see apply).
_STREAM_ATTEMPTS = 1
_APPLY_WORKERS = 4
_CONFLICT = re.compile(r'conflict with "([^"]+)"(?: using [^:]+)?: (\S+)')


def apply_args(
    *, dry_run: bool = False, force_conflicts: bool = False, output: str = ""
) -> list[str]:
    args = ["apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", "-"]
    if force_conflicts:
        args.append("--force-conflicts")
    if dry_run:
        args.append("--dry-run=server")
    if output:
        args += ["-o", output]
    return args


def explain_conflict(stage: str, error: ConflictError) -> ClusterRefusedError:
    """Names each contested field and its owner, and the two ways out."""
    owners = _CONFLICT.findall(error.stderr)
    fields = "; ".join(f"{path} (owned by {owner})" for owner, path in owners) or error.message
    return ClusterRefusedError(
        f"{stage}: fields we apply were changed by another field manager: {fields}",
        hint="someone edited these objects by hand or with another tool; put the change in the "
        "manifests, or run again with --force-conflicts to take the fields back",
    )


def json_stream(objects: Sequence[Obj]) -> str:
    """Objects for ``kubectl -f -``, as JSON one after the other: kubectl reads a JSON stream
    (apimachinery's YAMLOrJSONDecoder) in every supported version, and making it costs a
    millisecond where a YAML dump of a stage costs up to 0.1 s.  Never joined by ``---``:
    kubectl before 1.33 reads input starting with ``{`` as JSON only, where ``---`` is a syntax
    error.  Not a v1 List either: kubectl validates a List on the client, which needs the
    server's /openapi/v2."""
    return "\n".join(json.dumps(obj) for obj in objects)


def stream_of(manifests: Sequence[Manifest]) -> str:
    return json_stream([m.obj for m in manifests])


def applied_objects(stdout: str) -> list[Obj]:
    """The objects ``apply -o json`` printed: one object, or a List of them.  Anything else
    (an older kubectl's quirk) is no answer, and the stage is then read as usual."""
    try:
        parsed = json.loads(stdout) if stdout.strip() else None
    except ValueError:
        return []
    if not isinstance(parsed, dict):
        return []
    if str(parsed.get("kind", "")).endswith("List"):
        return [item for item in parsed.get("items") or [] if isinstance(item, dict)]
    return [parsed]


def apply(
    kubectl: Kubectl, manifests: Sequence[Manifest], *, force: bool, dry_run: bool = False
) -> list[Obj]:
    """Applies the objects in one kubectl call, or one by one if the API is flaky; returns
    what the server stored (nothing on a dry run).

    kubectl sends one request per object, so a single transient failure fails the whole
    stream and a retry re-sends all of it: with many objects the odds of a clean pass fall
    fast.  After a short try, each object gets its own bounded retries instead.
    Re-applying an object that already went through is a no-op (server-side apply).
    """
    args = apply_args(dry_run=dry_run, force_conflicts=force, output="" if dry_run else "json")
    try:
        out = kubectl.run(args, stdin=stream_of(manifests), attempts=_STREAM_ATTEMPTS)
        return applied_objects(out)
    except TransientError:
        if len(manifests) == 1:
            # The one object gets its own bounded retries, as each object does below.
            return applied_objects(kubectl.run(args, stdin=stream_of(manifests)))
    # Kind by kind keeps the stage's order (Services before their Deployments); objects of one
    # kind are independent, so they go concurrently.
    stored: list[Obj] = []
    for _, same_kind in itertools.groupby(manifests, key=lambda m: m.kind):
        with ThreadPoolExecutor(max_workers=_APPLY_WORKERS) as pool:
            outs = pool.map(lambda m: kubectl.run(args, stdin=stream_of([m])), same_kind)
            stored += [obj for out in outs for obj in applied_objects(out)]
    return stored
