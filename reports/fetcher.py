"""The only URL fetcher the renderer uses: the package's own templates and the pack's charts.

Finding messages, reasons and repository names come from scanners and CI systems; they are
escaped, and even if markup slipped through, nothing outside this allow-list is fetched. A
refused URL stops the render (WeasyPrint's fatal fetch error) instead of leaving a hole in a
document an auditor relies on.
"""

from __future__ import annotations

import base64
from importlib import resources

from weasyprint.urls import URLFetcher, URLFetcherResponse

PACKAGE_SCHEME = "auditpack:"
_TEMPLATES = "auditpack.templates"
_SERVED = {".css": "text/css", ".icc": "application/vnd.iccprofile", ".svg": "image/svg+xml"}


class RefusedURL(ValueError):
    """The pack asked for something that is neither package data nor one of its charts."""


class PackFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    """Serves `auditpack:NAME` from `auditpack.templates` and the data: URIs registered here."""

    def __init__(self) -> None:
        super().__init__(allow_redirects=False, fail_on_errors=True)
        self._data: dict[str, tuple[str, bytes]] = {}

    def data_uri(self, media_type: str, body: bytes) -> str:
        """A data: URI for `body`, registered so that the fetcher will serve it."""
        uri = f"data:{media_type};base64,{base64.b64encode(body).decode('ascii')}"
        self._data[uri] = (media_type, body)
        return uri

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if url.startswith(PACKAGE_SCHEME):
            return self._package_file(url)
        if url.startswith("data:") and (served := self._data.get(url)) is not None:
            media_type, body = served
            return URLFetcherResponse(url, body, {"Content-Type": media_type})
        raise RefusedURL(f"auditpack renders packs offline and refuses to fetch {url[:80]!r}")

    def _package_file(self, url: str) -> URLFetcherResponse:
        name = url.removeprefix(PACKAGE_SCHEME)
        suffix = name[name.rfind(".") :] if "." in name else ""
        if "/" in name or "\\" in name or name.startswith(".") or suffix not in _SERVED:
            raise RefusedURL(f"{url!r} is not one of auditpack's templates or styles")
        resource = resources.files(_TEMPLATES).joinpath(name)
        if not resource.is_file():
            raise RefusedURL(f"{url!r}: auditpack ships no such file (reinstall auditpack)")
        return URLFetcherResponse(url, resource.read_bytes(), {"Content-Type": _SERVED[suffix]})
