"""The HTTP front of kubesim: request parsing, faults, and the shape of every answer.

kubectl speaks HTTP/1.1 with keep-alive to an insecure ``http://`` server; watches are chunked
JSON lines.  TCP_NODELAY is set because without it every request waits ~40 ms on Nagle.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kubesim import discovery, openapi, openapi_v2, tables
from kubesim.api import decode_body
from kubesim.cluster import Cluster
from kubesim.errors import ApiError, bad_request, method_not_allowed, rbac_forbidden
from kubesim.faults import FaultInjector, ResetConnection
from kubesim.media import wants_table
from kubesim.routing import Target, parse_resource_path

JSON = dict[str, Any]
_LINGER_RESET = struct.pack("ii", 1, 0)
_INCLUDE_OBJECT = ("None", "Metadata", "Object")
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server saw it, for tests and benchmarks."""

    method: str
    path: str
    query: str
    status: int
    seconds: float
    started: float
    accept: str
    content_type: str


class KubeSimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], cluster: Cluster) -> None:
        super().__init__(address, Handler)
        self.cluster = cluster
        self.faults = FaultInjector(cluster.scenario.faults)
        self.requests: list[LoggedRequest] = []
        self.stopping = threading.Event()
        self._log_lock = threading.Lock()
        # Watches being streamed now (requests are logged only when they end).
        self.open_watches = 0

    def log_request_done(self, entry: LoggedRequest) -> None:
        with self._log_lock:
            self.requests.append(entry)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: KubeSimServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is kept in memory, not printed."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # plumbing ------------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        self._started = time.monotonic()
        self._method = method
        self._logged = False
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        body = self._read_body()
        self._status = 200
        try:
            self.server.faults.before(url.path)
            self._route(method, url.path, query, body)
        except ResetConnection:
            self._status = 0
            self._reset()
        except ApiError as error:
            if error.plain:
                headers = {"X-Content-Type-Options": "nosniff", **error.headers}
                body = error.message.encode()
                self._send(error.code, body, "text/plain; charset=utf-8", headers)
            else:
                self._send_json(error.code, error.status(), error.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            self._log_once()

    def _log_once(self) -> None:
        """Record the request once: before its answer is written (so a client that got the
        answer never races the log), or at the end for watches and dropped connections."""
        if self._logged:
            return
        self._logged = True
        url = urlsplit(self.path)
        self.server.log_request_done(
            LoggedRequest(
                self._method,
                url.path,
                url.query,
                self._status,
                time.monotonic() - self._started,
                self._started,
                self.headers.get("Accept", ""),
                self.headers.get("Content-Type", ""),
            )
        )

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0, then close at once): closing
        later would let the server's orderly shutdown send a FIN first, which clients see as
        EOF, not as the reset a crashed apiserver or a dropping load balancer gives."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        self.rfile.close()  # the buffered reader holds a reference that would keep the fd open
        self.connection.close()

    def _read_body(self) -> bytes:
        """The request body, sized or chunked (`kubectl replace --raw` streams it chunked)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self, code: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self._status = code
        self._log_once()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(
        self,
        code: int,
        obj: JSON,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        self._send(code, json.dumps(obj, separators=(",", ":")).encode(), content_type, headers)

    def _warning_headers(self, warnings: list[str]) -> dict[str, str]:
        # http.server cannot repeat a header through a dict; kubectl splits on commas.
        if not warnings:
            return {}
        return {"Warning": ", ".join(f"299 - {json.dumps(w)}" for w in warnings)}

    # routing -------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        cluster = self.server.cluster
        accept = self.headers.get("Accept", "")
        path = path.rstrip("/") or "/"
        if method == "GET" and self._discovery(path, accept):
            return
        target = parse_resource_path(path)
        if target is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        self._authorize(method, target, query)
        api = cluster.api
        manager = (
            query.get("fieldManager") or self.headers.get("User-Agent", "unknown").split("/")[0]
        )
        if method == "GET":
            if target.subresource == "log":
                self._send(200, str(api.get(target, query)).encode(), "text/plain")
            elif target.is_collection and query.get("watch") in ("true", "1"):
                self._watch(target, query, accept)
            elif target.is_collection:
                listed = api.list_collection(target, query)
                self._send_listed(target, listed, accept, query)
            else:
                obj = api.get(target, query)
                assert isinstance(obj, dict)
                self._send_object(target, obj, accept, query)
        elif method == "POST":
            decoded = decode_body(body, self.headers.get("Content-Type", ""))
            if target.resource.virtual:
                self._send_json(201, api.review_access(decoded))
                return
            created, warnings = api.create(target, decoded, query, manager)
            self._send_json(201, created, self._warning_headers(warnings))
        elif method == "PUT":
            decoded = decode_body(body, self.headers.get("Content-Type", ""))
            updated, warnings = api.update(target, decoded, query, manager)
            self._send_json(200, updated, self._warning_headers(warnings))
        elif method == "PATCH":
            code, patched, warnings = api.patch(
                target, body, self.headers.get("Content-Type", ""), query, manager
            )
            self._send_json(code, patched, self._warning_headers(warnings))
        elif method == "DELETE":
            options = decode_body(body, "application/json") if body else {}
            if target.is_collection:
                self._send_json(200, api.delete_collection(target, options, query))
            else:
                self._send_json(200, api.delete(target, options, query))
        else:
            raise method_not_allowed()

    def _authorize(self, method: str, target: Target, query: dict[str, str]) -> None:
        """RBAC as the scenario's ``forbidden`` rules script it, with the attributes the
        apiserver's RequestInfo gives (a Namespace is "in" its own namespace; DELETE on a
        collection is ``deletecollection``; a watch is ``watch``)."""
        if method == "GET":
            watching = query.get("watch") in ("true", "1")
            verb = "get" if target.name else ("watch" if watching else "list")
        elif method == "DELETE" and target.is_collection:
            verb = "deletecollection"
        else:
            verb = _VERBS.get(method, method.lower())
        resource = target.resource
        plural = (
            f"{resource.plural}/{target.subresource}" if target.subresource else resource.plural
        )
        namespace = target.namespace or (target.name if resource.kind == "Namespace" else "")
        for rule in self.server.faults.faults.forbidden:
            if (
                rule.verb in (verb, "*")
                and rule.resource in (resource.plural, plural, "*")
                and (not rule.namespace or rule.namespace == namespace)
            ):
                user = self.server.cluster.scenario.user
                raise rbac_forbidden(resource, target.name, verb, namespace, user, plural)

    def _discovery(self, path: str, accept: str) -> bool:
        cluster = self.server.cluster
        if path == "/version":
            self._send_json(200, discovery.version_info(cluster.scenario.kubernetes_version))
        elif path in ("/healthz", "/livez", "/readyz"):
            self._send(200, b"ok", "text/plain")
        elif path in ("/api", "/apis") and discovery.wants_aggregated(accept):
            self._send_json(
                200,
                discovery.aggregated_discovery(core=path == "/api"),
                None,
                discovery.AGGREGATED_CONTENT_TYPE,
            )
        elif path == "/api":
            host, port = self.server.server_address[:2]
            address = f"{host!s}:{port}"
            self._send_json(200, discovery.legacy_api_versions(address))
        elif path == "/apis":
            self._send_json(200, discovery.api_group_list())
        elif path == "/openapi/v3":
            self._send_json(200, openapi.root_document())
        elif path.startswith("/openapi/v3/"):
            document = openapi.group_version_document(path[len("/openapi/v3/") :])
            if document is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            self._send_json(200, document)
        elif path == "/openapi/v2":
            v2 = openapi_v2.document()
            if openapi_v2.wants_protobuf(accept):
                self._send(200, openapi_v2.encode(v2), openapi_v2.PROTOBUF_CONTENT_TYPE)
            else:
                self._send_json(200, v2)
        else:
            parts = path.strip("/").split("/")
            if parts[0] == "api" and len(parts) == 2:
                listing = discovery.api_resource_list("", parts[1])
            elif parts[0] == "apis" and len(parts) == 3:
                listing = discovery.api_resource_list(parts[1], parts[2])
            else:
                return False
            if listing is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            self._send_json(200, listing)
        return True

    def _send_object(self, target: Target, obj: JSON, accept: str, query: dict[str, str]) -> None:
        if wants_table(accept):
            include = query.get("includeObject", "Metadata")
            self._send_json(200, self._table(target, [obj], include_object=include))
        else:
            self._send_json(200, obj)

    def _send_listed(
        self, target: Target, listed: JSON, accept: str, query: dict[str, str]
    ) -> None:
        if wants_table(accept):
            version = listed["metadata"]["resourceVersion"]
            include = query.get("includeObject", "Metadata")
            self._send_json(200, self._table(target, listed["items"], version, include))
        else:
            self._send_json(200, listed)

    def _table(
        self,
        target: Target,
        objects: list[JSON],
        resource_version: str = "",
        include_object: str = "Metadata",
    ) -> JSON:
        if include_object not in _INCLUDE_OBJECT:
            raise bad_request(f"unrecognized includeObject value: {json.dumps(include_object)}")
        return tables.to_table(
            target.resource.kind,
            objects,
            now=datetime.now(timezone.utc),
            resource_version=resource_version,
            include_object=include_object,
        )

    def _client_gone(self) -> bool:
        """Whether a watching client hung up: without this check a quiet watch would hold its
        thread until timeoutSeconds, where the apiserver cancels it with the request context."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            return True

    def _watch(self, target: Target, query: dict[str, str], accept: str) -> None:
        as_table = wants_table(accept)
        include_object = query.get("includeObject", "Metadata")
        cut_after = self.server.faults.faults.watch_cut_after
        cut_at = time.monotonic() + cut_after if cut_after else None
        # Created before the 200 goes out: a watch with bad options is an error answer.
        events: Iterator[JSON] = self.server.cluster.api.watch(
            target,
            query,
            lambda: (
                self.server.stopping.is_set()
                or (cut_at is not None and time.monotonic() > cut_at)
                or self._client_gone()
            ),
        )
        self._status = 200
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        with self.server._log_lock:
            self.server.open_watches += 1
        try:
            for event in events:
                sent = event
                if as_table and event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                    table = self._table(target, [event["object"]], include_object=include_object)
                    sent = {"type": event["type"], "object": table}
                line = json.dumps(sent, separators=(",", ":")).encode() + b"\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with self.server._log_lock:
                self.server.open_watches -= 1
        self.close_connection = True
