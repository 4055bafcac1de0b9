"""The gateway's nginx.conf in a real nginx, in front of stub backends, for the payload tier.

The ConfigMap's file runs as it is, with three kinds of rewrite, each made here, counted and
asserted so that a changed file cannot slip past them:

* each upstream ``server <service>:<port>;`` points at a local stub instead of a Service;
* ``listen 8080`` becomes ``listen 127.0.0.1:<port>``: the tests serve on the loopback only,
  on 8080 (the Service's targetPort) when it is free, else on a free port;
* ``/tmp/`` (pid and temp files: the pod's emptyDir) becomes a private directory, so two
  gateways on one machine do not share them.

nginx runs unprivileged (as the pod's does) in the foreground, ``-g 'daemon off;'`` as the
image runs it, with ``-e stderr`` because Debian's build would otherwise first try to open
/var/log/nginx/error.log, which the unprivileged account may not write.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import signal
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.payload.servers import drop_privileges, give_to_server, stop

START_TIMEOUT = 30.0


class GatewayError(Exception):
    """nginx refused to start or never answered /healthz."""


class _Recording(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name: str, port: int) -> None:
        self.name = name
        self.connections: set[socket.socket] = set()
        super().__init__(("127.0.0.1", port), _EchoHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections.add(request)
        super().process_request(request, client_address)


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers 200 with JSON of what arrived: which service, path, headers, connection."""

    protocol_version = "HTTP/1.1"  # keeps the gateway's upstream connections open
    server: _Recording

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode() if length else ""
        reply = json.dumps(
            {
                "service": self.server.name,
                "method": self.command,
                "path": self.path,
                "version": self.request_version,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
                "peer_port": self.client_address[1],
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def do_GET(self) -> None:
        self._echo()

    def do_POST(self) -> None:
        self._echo()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads what arrived from the replies."""


class Stub:
    """A stand-in for one backend Service, on 127.0.0.1."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = 0
        self._server: _Recording | None = None

    def start(self) -> Stub:
        self._server = _Recording(self.name, self.port)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Gone as a crashed backend is: no listener, and open connections cut."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        for connection in self._server.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        self._server = None


def rewrite(config: str, upstreams: dict[str, int], port: int, workdir: Path) -> str:
    """The ConfigMap's nginx.conf with the three rewrites of this module's docstring."""
    seen: list[str] = []

    def to_stub(match: re.Match[str]) -> str:
        seen.append(match.group(2))
        return f"{match.group(1)}127.0.0.1:{upstreams[match.group(2)]};"

    config = re.sub(r"(?m)^(\s*server\s+)([\w.-]+:\d+);", to_stub, config)
    if sorted(seen) != sorted(upstreams):
        raise GatewayError(f"upstream servers {seen}, expected {sorted(upstreams)}")
    config, listens = re.subn(r"(?m)^(\s*listen\s+)8080;", rf"\g<1>127.0.0.1:{port};", config)
    if listens != 1:
        raise GatewayError(f"expected one `listen 8080;`, found {listens}")
    return config.replace("/tmp/", f"{workdir}/")


class Gateway:
    """nginx with a given configuration, serving on 127.0.0.1."""

    def __init__(
        self, nginx: Path, source: str, upstreams: dict[str, int], port: int, workdir: Path
    ) -> None:
        """``source`` is the ConfigMap's nginx.conf, ``upstreams`` the stub port of each
        upstream server address in it."""
        self.nginx = nginx
        self.port = port
        self.workdir = workdir
        self.source = source
        self.config = rewrite(source, upstreams, port, workdir)
        self.conf_path = workdir / "nginx.conf"
        self.log_path = workdir / "nginx.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.conf_path.write_text(self.config, encoding="utf-8")
        give_to_server(workdir)
        self.log_path.touch()
        give_to_server(self.log_path)  # nginx reopens /dev/stdout and /dev/stderr

    def start(self) -> Gateway:
        log = self.log_path.open("ab")
        command = [*drop_privileges(), str(self.nginx), "-e", "stderr", "-c", str(self.conf_path)]
        self._process = subprocess.Popen(
            [*command, "-g", "daemon off;"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise GatewayError(f"nginx exited on start:\n{self.log()}")
            # The pid file comes after the listening socket: until it exists, a /healthz
            # answer may be another gateway's on the same port.
            try:
                if self.pid_file.exists() and self.request("GET", "/healthz").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise GatewayError(f"nginx did not answer /healthz within {START_TIMEOUT}s:\n{self.log()}")

    @property
    def pid_file(self) -> Path:
        match = re.search(r"(?m)^pid\s+(\S+);", self.config)
        assert match, "nginx.conf sets no pid file"
        return Path(match.group(1))

    def stop(self) -> None:
        """SIGQUIT: the graceful stop the nginx image's STOPSIGNAL asks for."""
        stop(self._process, signal.SIGQUIT, timeout=15)
        self._process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def connection(self, timeout: float = 20.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: str | None = None,
        timeout: float = 20.0,
    ) -> Response:
        connection = self.connection(timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            return Response.read(connection.getresponse())
        finally:
            connection.close()


class Response:
    """A response read whole: status, headers, body, and the stub's echo when there is one."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @classmethod
    def read(cls, response: http.client.HTTPResponse) -> Response:
        return cls(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )

    @property
    def echo(self) -> dict[str, Any]:
        """What the stub received (an answer that is not a stub's is no echo)."""
        if self.headers.get("content-type") != "application/json":
            return {}
        echoed: dict[str, Any] = json.loads(self.body)
        return echoed
