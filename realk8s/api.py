"""A minimal HTTPS client of the API server, with the admin client certificate.

The rig needs a few calls of its own (readiness, the Node, the StorageClass, assertions in tests)
and must not depend on the kubectl under test to make them, so it speaks HTTP itself.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

JSON = dict[str, Any]


class ApiError(Exception):
    """A request the API server answered with an error status (or did not answer)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def resource_path(plural: str, namespace: str = "", group: str = "", version: str = "v1") -> str:
    """The collection URL of a resource: ``/api/v1/...`` for the core group."""
    base = f"/api/{version}" if not group else f"/apis/{group}/{version}"
    return f"{base}/namespaces/{namespace}/{plural}" if namespace else f"{base}/{plural}"


class Api:
    def __init__(self, server: str, ca: Path, cert: Path, key: Path) -> None:
        self.server = server
        context = ssl.create_default_context(cafile=str(ca))
        context.load_cert_chain(str(cert), str(key))
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))

    def request(
        self,
        method: str,
        path: str,
        body: JSON | None = None,
        content_type: str = "application/json",
        timeout: float = 10,
    ) -> JSON:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.server + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with self._opener.open(request, timeout=timeout) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            try:
                message = str(json.loads(text).get("message", text))
            except ValueError:
                message = text
            raise ApiError(error.code, message) from error
        except (OSError, urllib.error.URLError) as error:
            raise ApiError(0, f"{self.server} did not answer: {error}") from error
        if not text.startswith("{"):
            return {"text": text}
        loaded: JSON = json.loads(text)
        return loaded

    def get(self, path: str) -> JSON | None:
        """The object at ``path``, or None when it does not exist."""
        try:
            return self.request("GET", path)
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def items(self, path: str) -> list[JSON]:
        found = self.request("GET", path)
        items: list[JSON] = found.get("items") or []
        return items

    def create(self, path: str, obj: JSON) -> JSON:
        return self.request("POST", path, obj)

    def delete(self, path: str) -> None:
        try:
            self.request("DELETE", path)
        except ApiError as error:
            if error.status != 404:
                raise

    def ready(self) -> bool:
        """Whether ``/readyz`` passes: etcd reachable, RBAC bootstrapped, every post-start hook."""
        try:
            answer = str(self.request("GET", "/readyz", timeout=2).get("text", ""))
            return answer.strip() == "ok"
        except ApiError:
            return False
