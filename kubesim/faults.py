"""Seeded API fault injection: the same scenario fails the same requests in the same order.

Only resource requests are hit: `/version`, discovery and OpenAPI stay reliable, so a test of
a client's retries measures its handling of API errors rather than kubectl's discovery cache.
"""

from __future__ import annotations

import random
import threading
import time

from kubesim.errors import ApiError
from kubesim.scenario import Faults

_FAULTS = {
    429: (
        "TooManyRequests",
        "the server has received too many requests and has asked us to try again later",
    ),
    500: (
        "InternalError",
        'an error on the server ("injected fault") has prevented the request from succeeding',
    ),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
}
_RELIABLE_PREFIXES = ("/version", "/openapi", "/healthz", "/livez", "/readyz")


class ResetConnection(Exception):  # noqa: N818 - a signal to the server, not an error
    """Drop the connection without an answer, as a crashed or restarted apiserver does."""


class FaultInjector:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._random = random.Random(faults.seed)
        self._lock = threading.Lock()

    def before(self, path: str) -> None:
        """Delay, reset or fail a request as the scenario asks; return to serve it normally."""
        faults = self.faults
        if faults.unauthorized:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        if (
            not faults.any_random
            or path.startswith(_RELIABLE_PREFIXES)
            or path in ("/api", "/apis")
        ):
            return
        if faults.latency:
            time.sleep(faults.latency)
        with self._lock:
            reset_draw, error_draw, code_draw = (self._random.random() for _ in range(3))
        if reset_draw < faults.reset_rate:
            raise ResetConnection
        if error_draw < faults.error_rate and faults.error_codes:
            code = faults.error_codes[int(code_draw * len(faults.error_codes))]
            reason, message = _FAULTS.get(code, _FAULTS[500])
            if code not in (429, 503):
                raise ApiError(code, reason, message)
            seconds = faults.retry_after
            raise ApiError(
                code, reason, message, {"retryAfterSeconds": seconds}, {"Retry-After": str(seconds)}
            )
