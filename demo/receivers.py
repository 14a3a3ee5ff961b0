"""Local stand-ins for where digests go (a Slack incoming webhook, an SMTP server), for the demo and the tests.

- ``SlackReceiver``: a Slack incoming webhook (http.server): records each
  accepted POST body and can answer the first N with an error.
- ``SmtpReceiver``: an SMTP server (aiosmtpd) that keeps every message as
  the raw bytes received, to check what went over the wire.

Each gives the Airflow connection (JSON form) that points the provider's hook at it.
"""
from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


@dataclass
class Webhook:
    path: str
    raw: bytes
    content_type: str

    @property
    def json(self) -> dict:
        return json.loads(self.raw.decode("utf-8"))


class SlackReceiver:
    def __init__(self, fail_first: int = 0, fail_status: int = 500):
        self.messages: list[Webhook] = []
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.attempts += 1
                    failing = receiver.attempts <= fail_first
                    if not failing:
                        receiver.messages.append(Webhook(self.path, raw, self.headers.get("Content-Type", "")))
                self._answer(fail_status if failing else 200, b"internal_error" if failing else b"ok")

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def connection(self, token: str) -> str:
        """A slackwebhook connection: the hook posts to ``<host>/<token>`` when the host has a scheme."""
        return json.dumps({"conn_type": "slackwebhook", "host": self.base_url, "password": token})

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> SlackReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)


class SmtpReceiver:
    def __init__(self):
        self.messages: list[Mail] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope) -> str:
                receiver.messages.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
                return "250 Message accepted for delivery"

        # aiosmtpd's controller checks readiness by connecting to its own port, so it cannot take port 0.
        self.port = _free_port()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def connection(self, from_email: str) -> str:
        """Plain SMTP on loopback: no SSL, no STARTTLS, no resend inside the hook."""
        extra = {"disable_ssl": True, "disable_tls": True, "from_email": from_email, "retry_limit": 0, "timeout": 10}
        return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": self.port, "extra": extra})

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
