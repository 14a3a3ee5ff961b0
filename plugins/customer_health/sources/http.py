"""HTTP for API sources: bearer auth, retries with backoff that honour ``Retry-After``.

Retries (tenacity) cover 429, 5xx and dropped connections; any other 4xx is a
mistake a person must fix (token, URL, permissions) and fails at once with a
message that says which. The token is never logged.
"""
from __future__ import annotations

import logging

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
            retry=retry_if_exception_type((RetryableHTTPError, requests.ConnectionError, requests.Timeout)),
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
            raise ApiError(f"{self.vendor} answered {response.status_code} for {method} {url}: {response.text[:500]}")
        return response.json() if response.content else {}
