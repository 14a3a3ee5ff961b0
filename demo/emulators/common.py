"""What both vendor emulators share: a threaded HTTP server on loopback that
checks the bearer token, enforces a rate limit, injects faults, logs every
request, and hands the rest to the vendor's routes.

Why it exists: the extractors must be shown to survive what real APIs do
(401, 429 with ``Retry-After``, 5xx, paging), on one machine and in tests,
without credentials. Each vendor module only declares its routes and error
bodies; everything protocol-level lives here once.

Order of checks per request: fault injection (503), authentication (401),
rate limit (429), then routing (404/405 when nothing matches).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("demo.emulators")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]  # first value of each parameter
    params: dict[str, str]  # named groups of the matched route
    body: object = None  # parsed JSON, if any


@dataclass
class Reply:
    status: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)


class HTTPError(Exception):
    """Raised by a route to answer with the vendor's error body."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


Handler = Callable[[Request], Reply]


class Vendor(Protocol):
    """A vendor API: its routes (method, path pattern, handler) and error bodies."""

    routes: list[tuple[str, re.Pattern[str], Handler]]

    def error_body(self, status: int, message: str) -> dict: ...


class RateLimiter:
    """At most ``requests`` per sliding ``seconds``; tells how long to wait."""

    def __init__(self, requests: int, seconds: float):
        self.requests, self.seconds = requests, seconds
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def retry_after(self) -> int | None:
        """None if the request may go ahead (and counts it), else seconds to wait."""
        with self._lock:
            now = time.monotonic()
            while self._times and now - self._times[0] >= self.seconds:
                self._times.popleft()
            if len(self._times) < self.requests:
                self._times.append(now)
                return None
            return max(1, math.ceil(self._times[0] + self.seconds - now))


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], vendor: Vendor, token: str,
                 rate_limit: tuple[int, float] | None, fail_first: int, fail_every: int):
        super().__init__(address, RequestHandler)
        self.vendor = vendor
        self.token = token
        self.limiter = RateLimiter(*rate_limit) if rate_limit else None
        self.fail_first = fail_first
        self.fail_every = fail_every
        self.requests: list[tuple[str, str, int]] = []
        self.garbled: deque[str] = deque()
        self._count = 0
        self._lock = threading.Lock()

    def next_garble(self) -> str | None:
        with self._lock:
            return self.garbled.popleft() if self.garbled else None

    def next_request_number(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, status))
        log.info("%s %s -> %d", method, path, status)


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients with sessions expect
    server: Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: object) -> None:
        """Silenced: ``Server.record`` logs each request once, with its status."""

    def _handle(self) -> None:
        server = self.server
        vendor = server.vendor
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        number = server.next_request_number()
        try:
            if number <= server.fail_first or (server.fail_every
                                               and number % server.fail_every == 0):
                raise HTTPError(503, "The service is temporarily unavailable (injected fault).")
            if self.headers.get("Authorization") != f"Bearer {server.token}":
                raise HTTPError(401, "Authentication credentials not found or invalid.")
            if server.limiter and (wait := server.limiter.retry_after()) is not None:
                reply = Reply(429, vendor.error_body(429, "You have reached your rate limit."),
                              {"Retry-After": str(wait)})
            else:
                reply = self._route(vendor, raw_body)
        except HTTPError as error:
            reply = Reply(error.status, vendor.error_body(error.status, error.message))
        except Exception:  # a bug in a route must still answer, as a real 500 would
            log.exception("%s %s failed", self.command, self.path)
            reply = Reply(500, vendor.error_body(500, "Internal server error."))
        self._send(reply)

    def _route(self, vendor: Vendor, raw_body: bytes) -> Reply:
        url = urlsplit(self.path)
        allowed = False
        for method, pattern, handler in vendor.routes:
            match = pattern.fullmatch(url.path)
            if not match:
                continue
            allowed = True
            if method != self.command:
                continue
            try:
                body = json.loads(raw_body) if raw_body else None
            except ValueError:
                raise HTTPError(400, "The request body is not valid JSON.") from None
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            return handler(Request(self.command, url.path, query, match.groupdict(), body))
        if allowed:
            raise HTTPError(405, f"{self.command} is not allowed on {url.path}.")
        raise HTTPError(404, f"No route for {url.path}.")

    def _send(self, reply: Reply) -> None:
        # Recorded before answering: a client that has its answer must find its request in the log.
        self.server.record(self.command, self.path, reply.status)
        payload = json.dumps(reply.body).encode()
        content_type = "application/json; charset=utf-8"
        garble = self.server.next_garble() if reply.status == 200 else None
        if garble == "html":
            content_type = "text/html; charset=utf-8"
            payload = (b"<html><head><title>Maintenance</title></head><body><h1>We'll be right back</h1>"
                       b"<p>request token=" + self.server.token.encode() + b"</p></body></html>")
        elif garble == "truncated":
            payload = payload[: max(1, len(payload) // 2)]
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class Emulator:
    """A running emulator; stop it with ``stop()`` or use it as a context manager."""

    def __init__(self, server: Server):
        self._server = server
        host, port = server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        # A short poll keeps stop() quick; serving itself does not poll.
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=self.base_url, daemon=True)
        self._thread.start()

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        """(method, path with query, status) of every request so far."""
        return self._server.requests

    def garble_next(self, count: int, kind: str = "html") -> None:
        """Answer the next ``count`` successful requests with a body that is not JSON, as a real API
        sometimes does: ``html`` is a status-200 maintenance page from a proxy (echoing the request's
        token, as careless ones do), ``truncated`` the JSON cut off half-way."""
        if kind not in ("html", "truncated"):
            raise ValueError(f"kind must be html or truncated, got {kind!r}")
        with self._server._lock:
            self._server.garbled.extend([kind] * count)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(vendor: Vendor, token: str, host: str = "127.0.0.1", port: int = 0,
          rate_limit: tuple[int, float] | None = None, fail_first: int = 0,
          fail_every: int = 0) -> Emulator:
    """Start serving ``vendor`` in a background thread; port 0 picks a free one."""
    return Emulator(Server((host, port), vendor, token, rate_limit, fail_first, fail_every))


def parse_rate_limit(text: str) -> tuple[int, float] | None:
    """``N/S`` (N requests per S seconds) or ``none``."""
    if text.lower() == "none":
        return None
    requests, _, seconds = text.partition("/")
    try:
        return int(requests), float(seconds or 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N/SECONDS or none, got {text!r}") from None


def add_server_arguments(parser: argparse.ArgumentParser, *, port: int | None,
                         rate_limit: str) -> None:
    """Options every emulator CLI shares (``port=None``: the caller adds its own)."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to listen on (default %(default)s; 0.0.0.0 in docker)")
    if port is not None:
        parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--token", default="demo-token", help="the bearer token to accept")
    parser.add_argument("--rate-limit", type=parse_rate_limit, default=rate_limit,
                        help="N/SECONDS or none (default %(default)s)")
    parser.add_argument("--fail-first", type=int, default=0,
                        help="answer the first N requests with 503")
    parser.add_argument("--fail-every", type=int, default=0,
                        help="answer every K-th request with 503")


def serve_one_from_command_line(argv: list[str] | None, *, name: str, start, port: int, rate_limit: str,
                                data_help: str) -> None:
    """The whole CLI of a single emulator: parse the shared options, start it, serve until stopped."""
    parser = argparse.ArgumentParser(prog=f"python -m demo.emulators.{name.lower()}",
                                     description=f"Serve a demo {name} on loopback.")
    parser.add_argument("--data-dir", required=True, help=data_help)
    add_server_arguments(parser, port=port, rate_limit=rate_limit)
    args = parser.parse_args(argv)
    emulator = start(args.data_dir, args.token, args.host, args.port, args.rate_limit,
                     args.fail_first, args.fail_every)
    run_until_stopped([(name, emulator)])


def run_until_stopped(emulators: list[tuple[str, Emulator]]) -> None:
    """Serve in the foreground until SIGINT or SIGTERM, then stop cleanly."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    for name, emulator in emulators:
        print(f"{name} emulator on {emulator.base_url}", flush=True)
    stopped.wait()
    for _, emulator in emulators:
        emulator.stop()
