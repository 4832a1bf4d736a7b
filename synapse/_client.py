"""A small HTTP client for a running Synapse (token, errors as Synapse errors)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from events.errors import StoreUnavailableError, SynapseError, UserInputError

__all__ = ["ApiClient"]


class ApiClient:
    """Call the Synapse HTTP API with the per-install token.

    Args:
        base_url: e.g. ``http://127.0.0.1:8765``.
        token: the per-install API token.
        timeout_s: per-request timeout.
    """

    def __init__(self, base_url: str, token: str, timeout_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_s,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _check(self, response: httpx.Response) -> httpx.Response:
        if response.status_code < 400:
            return response
        try:
            body = response.json()
            detail = str(body.get("detail") or body)
        except ValueError:
            detail = response.text[:200]
        if response.status_code in (400, 404, 409, 422):
            raise UserInputError(detail)
        if response.status_code in (401, 403):
            msg = f"the API refused the request ({response.status_code}): {detail}"
            raise UserInputError(msg, hint="check $SYNAPSE_HOME/token")
        if response.status_code == 503:
            raise StoreUnavailableError(detail, hint="see `synapse status`")
        msg = f"the API answered {response.status_code}: {detail}"
        raise SynapseError(msg)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; raise a Synapse error for error answers or no answer."""
        try:
            return self._check(self._http.request(method, path, **kwargs))
        except httpx.TransportError as exc:
            msg = f"Synapse is not answering at {self.base_url}"
            raise UserInputError(msg, hint="start it with `synapse up`") from exc

    def get_json(self, path: str, **params: Any) -> Any:
        """GET ``path`` and decode JSON."""
        clean = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", path, params=clean).json()

    def post_json(self, path: str, body: dict[str, Any]) -> Any:
        """POST a JSON body and decode the JSON answer."""
        return self.request("POST", path, json=body).json()

    def stream_lines(
        self, method: str, path: str, *, json: dict[str, Any] | None = None, **params: Any
    ) -> Iterator[str]:
        """Yield the lines of a streaming (SSE) answer."""
        clean = {k: v for k, v in params.items() if v is not None}
        try:
            with self._http.stream(method, path, params=clean, json=json, timeout=None) as response:
                self._check(response)
                yield from response.iter_lines()
        except httpx.TransportError as exc:
            msg = f"Synapse is not answering at {self.base_url}"
            raise UserInputError(msg, hint="start it with `synapse up`") from exc
