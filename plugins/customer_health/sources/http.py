"""HTTP for API sources: bearer auth, retries with backoff that honour ``Retry-After``.

Retries (tenacity) cover 429, 5xx, dropped connections and a body that is not
JSON (a proxy's HTML page with status 200, a page cut off half-way); any other
4xx is a mistake a person must fix (token, URL, permissions) and fails at once
with a message that says which. The token is never logged: anything a server
sent back is redacted before it is echoed.
"""
from __future__ import annotations

import logging
import re

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

log = logging.getLogger(__name__)


class RetryableHTTPError(Exception):
    def __init__(self, status: int, url: str, retry_after: float | None):
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"HTTP {status} from {url}")


class ApiError(RuntimeError):
    """A request the server refused for a reason retrying cannot fix."""


class NotJSONError(ApiError):
    """An answer whose body is not JSON; retried, and raised with vendor, path and a redacted snippet."""


SNIPPET_CHARS = 200
_SECRET = re.compile(r"(?i)(token|api[_-]?key|secret|password|authorization|bearer)([\"'\s:=]+)([^\s\"'&,<>]+)")


def redact(text: str, *secrets: str) -> str:
    """``text`` with the given secrets and anything that looks like a credential assignment masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _SECRET.sub(lambda m: f"{m[1]}{m[2]}***", text)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare; fall back to backoff


class ApiClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        vendor: str,
        conn_id: str,
        max_attempts: int = 8,
        max_wait: float = 60.0,
        timeout: float = 30.0,
    ):
        self.base_url = base_url.rstrip("/")
        self.vendor = vendor
        self._token = token
        self.conn_id = conn_id
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["Accept"] = "application/json"
        backoff = wait_exponential_jitter(initial=0.5, max=max_wait)

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, RetryableHTTPError) and exc.retry_after is not None:
                return min(exc.retry_after, max_wait)
            return backoff(state)

        self._retrying = Retrying(
            retry=retry_if_exception_type((RetryableHTTPError, NotJSONError, requests.ConnectionError, requests.Timeout)),
            wait=wait,
            stop=stop_after_attempt(max_attempts),
            before_sleep=lambda s: log.warning(
                "%s: %s; retry %d in %.1fs", vendor, s.outcome.exception(), s.attempt_number, s.next_action.sleep
            ),
            reraise=True,
        )

    def request(self, method: str, path: str, **kwargs) -> dict:
        """One request, retried on 429 / 5xx / connection errors."""
        return self.retrying(self.request_once, method, path, **kwargs)

    def retrying(self, fn, *args, **kwargs):
        """Run ``fn`` under this client's retry policy: for a step that must be retried
        as a whole (search-then-create), not request by request."""
        return self._retrying(fn, *args, **kwargs)

    def request_once(self, method: str, path: str, **kwargs) -> dict:
        """One attempt, no retry: the building block of :meth:`request` and :meth:`retrying` steps."""
        url = f"{self.base_url}{path}"
        response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableHTTPError(response.status_code, url, _retry_after(response))
        if response.status_code in (401, 403):
            raise ApiError(
                f"{self.vendor} refused the credentials ({response.status_code}) for {method} {url}: "
                f"check the token in the Airflow connection {self.conn_id!r}"
            )
        if response.status_code >= 400:
            raise ApiError(f"{self.vendor} answered {response.status_code} for {method} {url}: "
                           f"{redact(response.text[:500], self._token)}")
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            snippet = redact(response.text[:SNIPPET_CHARS], self._token)
            raise NotJSONError(
                f"{self.vendor} answered {response.status_code} for {method} {path} with a body that is not JSON "
                f"({response.headers.get('Content-Type', 'no content type')}, {len(response.content):,} bytes): "
                f"{snippet!r}") from None
