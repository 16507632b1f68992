"""A real S3 API on 127.0.0.1 (moto in server mode) for the whole session, and clients to it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from moto_s3 import S3

from auditpack.evidence.sources.s3 import make_client

# Dummy credentials, and no lookup of a real AWS config or the instance metadata service.
_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent/auditpack-tests/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/auditpack-tests/credentials",
}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_PROFILE", raising=False)
        for name, value in _ENVIRONMENT.items():
            patch.setenv(name, value)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture
def s3(s3_endpoint: str) -> S3:
    """An empty S3 for each test; `calls` counts the collector's requests by operation."""
    requests.post(f"{s3_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    calls: Counter[str] = Counter()
    client = make_client(endpoint_url=s3_endpoint, max_attempts=3)

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client.meta.events.register("before-call.s3.*", count)
    return S3(s3_endpoint, make_client(endpoint_url=s3_endpoint), client, calls)
