"""One deploy at a time per namespace: a lease held in a ConfigMap, so two runs never interleave.

Why a ConfigMap and ``kubectl create``: creation is atomic on the apiserver (AlreadyExists means
someone holds it), it needs no permission beyond what a deploy already has, and anyone can see
who holds it with ``kubectl get configmap asky-scripts-lock -o yaml``.

The holder (host, pid, start time, command) is written in annotations with an expiry.  While the
run goes on, a background thread renews the expiry every few seconds, so a run that died (kill
-9, a lost laptop) leaves a lock that expires within ``LEASE_SECONDS`` and is then taken over.
Every change to a held lock is a compare-and-swap: a JSON patch whose ``test`` operation checks
the holder it expects, so two runs racing for an expired lock cannot both win, and a renewal
never extends a lock someone else has taken over.  The lock is released on every exit, including
Ctrl-C and SIGTERM.

The namespace must exist to hold the lock; on a first deploy it does not, so the namespace stage
applies it first (an idempotent apply of the same object, harmless if two runs race) and the
lock is taken right after, before any other write.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from types import TracebackType

import tenacity

from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_errors import AlreadyExistsError, KubectlError, NotFoundError
from asky_scripts.cluster.objects import Obj, annotations_of
from asky_scripts.errors import ClusterRefusedError

LOCK_NAME = "asky-scripts-lock"
HOLDER_ANNOTATION = "asky-scripts/holder"
EXPIRES_ANNOTATION = "asky-scripts/expires"
LEASE_SECONDS = 60.0
RENEW_EVERY_SECONDS = 15.0
_POLL_MIN_SECONDS, _POLL_MAX_SECONDS = 0.5, 3.0


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(text: str) -> float | None:
    try:
        return (
            datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
        )
    except ValueError:
        return None


def _pointer(key: str) -> str:
    """An annotation key as a JSON pointer segment (RFC 6901: ``~`` then ``/`` escaped)."""
    return "/metadata/annotations/" + key.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Holder:
    """Who holds the lock; ``text`` is stored as is and compared as is."""

    text: str

    @classmethod
    def this_process(cls, command: str, now: float) -> Holder:
        return cls(f"{command} pid {os.getpid()} on {socket.gethostname()} since {_iso(now)}")


class NamespaceLock:
    """``with NamespaceLock(...):`` holds the namespace's deploy lock for the block."""

    def __init__(
        self,
        kubectl: Kubectl,
        namespace: str,
        *,
        labels: Mapping[str, str],
        command: str,
        wait: float,
        notify: Callable[[str], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._kubectl = kubectl
        self._namespace = namespace
        self._labels = dict(labels)
        self._wait = wait
        self._notify = notify
        self._clock = clock
        self.holder = Holder.this_process(command, clock())
        self._stop = threading.Event()
        self._lost: str | None = None
        self._renewer: threading.Thread | None = None
        self._told: str | None = None

    # -- taking -------------------------------------------------------------------------------

    def acquire(self) -> None:
        """Takes the lock, waiting up to ``wait`` seconds for a live holder to release it."""
        waiting = tenacity.Retrying(
            retry=tenacity.retry_if_result(lambda held_by: held_by is not None),
            stop=tenacity.stop_after_delay(self._wait),
            wait=self._pause,
            before_sleep=self._tell_waiting,
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )
        held_by: tuple[str, str] | None = waiting(self._try_take)
        if held_by is not None:
            holder, expires = held_by
            raise ClusterRefusedError(
                f"namespace {self._namespace} is being changed by another run: {holder} "
                f"(lock ConfigMap {LOCK_NAME}, expires {expires or '?'} unless renewed); "
                f"waited {self._wait:g}s",
                hint="wait for that run to finish and run again; a run that died leaves a "
                f"lock that expires within {LEASE_SECONDS:g}s. If you are sure nobody is "
                f"deploying: kubectl delete configmap {LOCK_NAME} -n {self._namespace}",
            )
        self._start_renewing()

    def _pause(self, state: tenacity.RetryCallState) -> float:
        """A doubling pause, cut short so the last try is made when the wait runs out."""
        backoff = min(_POLL_MIN_SECONDS * 2.0 ** (state.attempt_number - 1), _POLL_MAX_SECONDS)
        return min(backoff, max(0.0, self._wait - (state.seconds_since_start or 0.0)))

    def _tell_waiting(self, state: tenacity.RetryCallState) -> None:
        """Says once per holder that we wait for it."""
        holder = state.outcome.result()[0] if state.outcome else "?"
        if holder != self._told:
            self._notify(
                f"waiting for the lock of namespace {self._namespace}, held by {holder} "
                f"(up to {self._wait:g}s)"
            )
            self._told = holder

    def _try_take(self) -> tuple[str, str] | None:
        """None when the lock is now ours, else who holds it and until when."""
        try:
            self._kubectl.run(["create", "-f", "-", "-o", "name"], stdin=json.dumps(self._object()))
            return None
        except AlreadyExistsError:
            pass
        try:
            found = self._kubectl.get_json(
                ["get", f"configmaps/{LOCK_NAME}", "-n", self._namespace]
            )
        except NotFoundError:
            return ("(released just now)", "")  # deleted meanwhile: try to create it again
        annotations = annotations_of(found)
        holder = str(annotations.get(HOLDER_ANNOTATION, "an unknown holder"))
        if holder == self.holder.text:
            # Our create went through but its answer was lost, and the retry found it.
            return None
        expires = str(annotations.get(EXPIRES_ANNOTATION, ""))
        expiry = _epoch(expires)
        if expiry is not None and expiry > self._clock():
            return holder, expires
        # Expired (or unreadable): take it over, but only if it is still the lock we judged.
        try:
            self._swap(holder, self.holder.text)
        except KubectlError:
            again = self._read_holder()
            if again == holder:
                raise  # unchanged, so the patch failed for another reason: say it
            return (again or "(released just now)", "")
        self._notify(f"took over the expired lock of {holder}")
        return None

    def _object(self) -> Obj:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": LOCK_NAME,
                "namespace": self._namespace,
                "labels": dict(self._labels),
                "annotations": {
                    HOLDER_ANNOTATION: self.holder.text,
                    EXPIRES_ANNOTATION: self._expiry(),
                },
            },
            "data": {"purpose": "held while run.py or terminate.py changes this namespace"},
        }

    def _expiry(self) -> str:
        return _iso(self._clock() + LEASE_SECONDS)

    def _swap(self, expected_holder: str, new_holder: str) -> None:
        """Compare-and-swap of the holder (and a fresh expiry) in one JSON patch."""
        ops = [
            {"op": "test", "path": _pointer(HOLDER_ANNOTATION), "value": expected_holder},
            {"op": "replace", "path": _pointer(HOLDER_ANNOTATION), "value": new_holder},
            {"op": "replace", "path": _pointer(EXPIRES_ANNOTATION), "value": self._expiry()},
        ]
        self._kubectl.run(
            [
                "patch",
                f"configmaps/{LOCK_NAME}",
                "-n",
                self._namespace,
                "--type=json",
                "-p",
                json.dumps(ops),
            ]
        )

    def _read_holder(self) -> str | None:
        try:
            found = self._kubectl.get_json(
                ["get", f"configmaps/{LOCK_NAME}", "-n", self._namespace]
            )
        except NotFoundError:
            return None
        annotations = annotations_of(found)
        return str(annotations.get(HOLDER_ANNOTATION, ""))

    # -- holding ------------------------------------------------------------------------------

    def _start_renewing(self) -> None:
        self._renewer = threading.Thread(target=self._renew_loop, name="lock-renewal", daemon=True)
        self._renewer.start()

    def _renew_loop(self) -> None:
        renewed = self._clock()
        while not self._stop.wait(RENEW_EVERY_SECONDS):
            try:
                self._swap(self.holder.text, self.holder.text)
                renewed = self._clock()
                continue
            except KubectlError as exc:
                reason = exc.message
            try:
                holder = self._read_holder()
            except KubectlError:
                holder = self.holder.text  # unknown: judge by the lease's age alone
            if holder != self.holder.text:
                self._lost = f"the lock of namespace {self._namespace} was taken by {holder}"
                return
            if self._clock() - renewed > LEASE_SECONDS:
                self._lost = f"the lock could not be renewed for {LEASE_SECONDS:g}s ({reason})"
                return

    def ensure_held(self) -> None:
        """Raises when the renewal found the lock lost, so no further stage runs unprotected."""
        if self._lost:
            raise ClusterRefusedError(
                f"{self._lost}; stopped before the next stage",
                hint="another run may be changing this namespace; run again when it is done",
            )

    # -- releasing ----------------------------------------------------------------------------

    def release(self) -> None:
        """Stops renewing and deletes the lock if it is still ours (best effort)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        try:
            if self._read_holder() == self.holder.text:
                self._kubectl.run(
                    ["delete", f"configmaps/{LOCK_NAME}", "-n", self._namespace, "--wait=false"]
                )
        except KubectlError as exc:
            self._notify(
                f"could not release the lock ({exc.message}); it expires within "
                f"{LEASE_SECONDS:g}s by itself"
            )

    def __enter__(self) -> NamespaceLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
