"""Seeded API fault injection: the same scenario fails the same requests in the same order.

Only resource requests are hit: `/version`, discovery and OpenAPI stay reliable, so a test of
a client's retries measures its handling of API errors rather than kubectl's discovery cache.
Each fault looks as it does from a real control plane, because clients branch on those
details: a 429 is the priority-and-fairness filter's plain-text answer with ``Retry-After``
(client-go then retries by itself, up to 10 times), a 500 is the apiserver's InternalError
``Status``, a 503 a ServiceUnavailable ``Status`` with ``Retry-After`` (as during an apiserver
shutdown), and a reset is a TCP RST, as from a crashed apiserver or a dropped load balancer.
"""

from __future__ import annotations

import random
import threading
import time

from kubesim.errors import ApiError
from kubesim.scenario import Faults

# What kube-apiserver's max-in-flight / APF filters write (http.Error, not a Status object).
TOO_MANY_REQUESTS_TEXT = "Too many requests, please try again later.\n"
_RELIABLE_PREFIXES = ("/version", "/openapi", "/healthz", "/livez", "/readyz")


class ResetConnection(Exception):  # noqa: N818 - a signal to the server, not an error
    """Drop the connection without an answer, as a crashed or restarted apiserver does."""


def injected_error(code: int, retry_after: int) -> ApiError:
    """The answer for an injected HTTP error ``code``."""
    headers = {"Retry-After": str(retry_after)}
    if code == 429:
        return ApiError(429, "TooManyRequests", TOO_MANY_REQUESTS_TEXT, headers=headers, plain=True)
    if code == 503:
        return ApiError(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
            {"retryAfterSeconds": retry_after},
            headers,
        )
    return ApiError(code, "InternalError", "Internal error occurred: injected fault")


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
            raise injected_error(code, faults.retry_after)
