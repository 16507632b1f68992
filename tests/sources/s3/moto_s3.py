"""What the `s3` fixture hands a test: a set-up client and the counted client under test."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any


@dataclass
class S3:
    """A client for the test to set buckets up, and the counted client the collector uses."""

    endpoint: str
    setup: Any
    client: Any
    calls: Counter[str]
