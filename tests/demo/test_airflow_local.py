"""`make airflow` starts the scheduler only once the api-server answers (demo/airflow_local.py's supervisor).

Real processes on loopback stand in for the Airflow components: a web server that starts answering
after a delay (the api-server), and a "scheduler" that records, the moment it starts, whether the API
answered already. Running the real four Airflow components is what `make airflow` itself does.
"""
from __future__ import annotations

import io
import socket
import sys
import textwrap

import pytest

from demo.airflow_local import ApiServerDidNotStart, supervise


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def slow_api_server(port: int, delay_s: float) -> list[str]:
    code = textwrap.dedent(f"""
        import http.server, time
        time.sleep({delay_s})
        class Version(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200 if self.path == "/api/v2/version" else 404)
                self.end_headers()
                self.wfile.write(b'{{"version": "3.3.2"}}')
            def log_message(self, *args):
                pass
        http.server.HTTPServer(("127.0.0.1", {port}), Version).serve_forever()
    """)
    return [sys.executable, "-c", code]


def probe(port: int, out_file) -> list[str]:
    """A component that reports whether the API answered when it started, then exits."""
    code = textwrap.dedent(f"""
        import urllib.request
        try:
            urllib.request.urlopen("http://127.0.0.1:{port}/api/v2/version", timeout=2)
            answered = "api answered"
        except Exception as exc:
            answered = "api did not answer: " + repr(exc)
        open({str(out_file)!r}, "a").write(answered + "\\n")
    """)
    return [sys.executable, "-c", code]


def test_the_scheduler_starts_only_after_the_api_server_answers(tmp_path):
    port = free_port()
    seen = tmp_path / "seen.txt"
    out = io.StringIO()
    idle = [sys.executable, "-c", "import time; time.sleep(60)"]
    # The probe exits once it has looked, which ends the supervisor (one component exited) and stops the others.
    supervise(slow_api_server(port, 3), {"dag-processor": idle, "scheduler": probe(port, seen)},
              f"http://127.0.0.1:{port}/api/v2/version", env=None, timeout_s=60, out=out)
    assert seen.read_text().splitlines() == ["api answered"]
    assert f"api-server answers http://127.0.0.1:{port}/api/v2/version after" in out.getvalue()
    assert "starting dag-processor, scheduler" in out.getvalue()


def test_an_api_server_that_dies_stops_make_airflow_before_the_scheduler_starts(tmp_path):
    seen = tmp_path / "seen.txt"
    port = free_port()
    with pytest.raises(ApiServerDidNotStart, match="exited .code 3. before answering"):
        supervise([sys.executable, "-c", "import sys; sys.exit(3)"], {"scheduler": probe(port, seen)},
                  f"http://127.0.0.1:{port}/api/v2/version", env=None, timeout_s=60, out=io.StringIO())
    assert not seen.exists(), "the scheduler must not start without an api-server"
