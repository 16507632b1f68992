"""The renderer's URL fetcher: package styles and its own charts, nothing else."""

from __future__ import annotations

import pytest

from auditpack.reports.fetcher import PackFetcher, RefusedURL


def test_serves_the_package_stylesheet() -> None:
    response = PackFetcher().fetch("auditpack:pack.css")
    assert response.content_type == "text/css"
    assert b"@page" in response.read()


def test_serves_only_the_data_uris_it_made() -> None:
    fetcher = PackFetcher()
    uri = fetcher.data_uri("image/svg+xml", b"<svg/>")
    assert fetcher.fetch(uri).read() == b"<svg/>"
    with pytest.raises(RefusedURL):
        fetcher.fetch("data:image/svg+xml;base64,PHN2Zy8+Cg==")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "https://example.com/logo.png",
        "file:///etc/passwd",
        "auditpack:../controls/matrix.yaml",
        "auditpack:pack.html",  # templates are read by Jinja, never fetched
        "auditpack:missing.css",
        "ftp://example.com/x",
    ],
)
def test_refuses_everything_else(url: str) -> None:
    with pytest.raises(RefusedURL):
        PackFetcher().fetch(url)
