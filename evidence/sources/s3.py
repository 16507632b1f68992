"""S3 as an evidence source: SARIF archives and Falco alerts, with their Object Lock facts.

Objects are listed page by page (at most 1,000 keys a page) and handled as they arrive, so
memory stays flat however large the bucket. For each object in the period the collector
records its version id, ETag, the store's SHA-256 checksum when there is one, and the Object
Lock mode and retain-until date, then downloads it and imports it like a local file.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import logging
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from auditpack.controls.matrix import ControlMatrix
from auditpack.controls.period import Period
from auditpack.evidence.errors import CollectionError
from auditpack.evidence.falco import import_falco, runtime_gate
from auditpack.evidence.importer import ImportResult, Origin, import_sarif
from auditpack.evidence.locker import Locker, Population
from auditpack.evidence.model import EvidenceGap, GapKind, GateId, Repository
from auditpack.evidence.progress import NoProgress, Progress

log = logging.getLogger(__name__)

S3Client = Any  # botocore builds the client class at run time

# Adaptive mode adds client-side rate limiting on top of backoff: what S3 asks for on SlowDown.
DEFAULT_ATTEMPTS = 8
_CHUNK = 1 << 20
_SNIFF = 64 * 1024
# Errors that mean the store does not offer GetObjectAttributes (older S3-compatible stores)
# or that the role lacks s3:GetObjectAttributes; the checksum is then simply not recorded.
_NO_ATTRIBUTES = {"NotImplemented", "AccessDenied", "MethodNotAllowed", "InvalidRequest"}
# falcosidekick's key: <prefix>/YYYY-MM-DD/<upload time, RFC 3339>.json (outputs/aws.go).
_SIDEKICK_KEY = re.compile(r"(?:^|/)(\d{4}-\d{2}-\d{2})/\d{4}-\d{2}-\d{2}T[^/]*\.json$")
_FALCO_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_FIELDS = {
    "owner": r"[^/]+",
    "repo": r"[^/]+",
    "gate": r"[^/]+",
    "date": r"\d{4}-\d{2}-\d{2}",
    "name": r".+",
    "any": r"[^/]+",
}


class S3Error(CollectionError):
    """An S3 location cannot be read at all (no bucket, no permission, no credentials)."""


@dataclass(frozen=True)
class S3Location:
    """One `s3://bucket/prefix` the user named."""

    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def relative(self, key: str) -> str:
        """The key below the prefix, which is what a key template describes."""
        rest = key[len(self.prefix) :] if key.startswith(self.prefix) else key
        return rest.lstrip("/")


def parse_s3_uri(text: str) -> S3Location:
    if not text.startswith("s3://"):
        raise S3Error(f"{text!r}: expected an S3 URI such as s3://bucket/prefix")
    bucket, _, prefix = text[len("s3://") :].partition("/")
    if not bucket:
        raise S3Error(f"{text!r}: the S3 URI names no bucket")
    return S3Location(bucket, prefix)


@dataclass(frozen=True)
class KeyFacts:
    """What a key template read from one key."""

    repository: Repository | None = None
    gate: GateId | None = None
    day: date | None = None


class KeyTemplate:
    """`{repo}/{gate}/{date}/{name}`: fields owner, repo, gate, date (YYYY-MM-DD), name, any."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._pattern = re.compile(self._regex(text))

    @staticmethod
    def _regex(text: str) -> str:
        parts: list[str] = []
        seen: set[str] = set()
        for literal, name in re.findall(r"([^{]*)(?:\{(\w*)\})?", text):
            parts.append(re.escape(literal))
            if not name:
                continue
            if name not in _FIELDS:
                known = ", ".join(_FIELDS)
                raise S3Error(f"key template {text!r}: unknown field {{{name}}} (known: {known})")
            group = f"(?P<{name}>{_FIELDS[name]})" if name not in seen else f"(?P={name})"
            if name == "any":
                group = _FIELDS["any"]
            parts.append(group)
            seen.add(name)
        return "".join(parts)

    @property
    def has_date(self) -> bool:
        return "{date}" in self.text

    def match(self, key: str) -> KeyFacts | None:
        found = self._pattern.fullmatch(key)
        if found is None:
            return None
        fields = found.groupdict()
        try:
            day = date.fromisoformat(fields["date"]) if fields.get("date") else None
        except ValueError:
            return None
        repo = fields.get("repo")
        owner = fields.get("owner")
        repository = f"{owner}/{repo}" if owner and repo else repo
        return KeyFacts(
            repository=Repository(repository) if repository else None,
            gate=GateId(fields["gate"]) if fields.get("gate") else None,
            day=day,
        )


@dataclass(frozen=True)
class ListedObject:
    key: str
    size: int
    last_modified: datetime
    etag: str


@dataclass(frozen=True)
class ObjectFacts:
    """What S3 says about one object beyond the listing."""

    version_id: str | None
    lock_mode: str | None
    retain_until: datetime | None
    etag: str = ""  # of the version fetched, which a write after the listing may have changed
    checksum_sha256: str | None = None
    checksum_type: str | None = None


@dataclass
class S3Summary:
    """Counts for the command's closing line and for reconciling with the bucket."""

    listed: int = 0
    in_period: int = 0
    already_collected: int = 0
    downloaded: int = 0
    bytes: int = 0
    new_items: int = 0
    gaps: list[EvidenceGap] = field(default_factory=list)


def make_client(
    profile: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int = DEFAULT_ATTEMPTS,
) -> S3Client:
    """An S3 client on the standard credential chain, retrying throttling adaptively."""
    try:
        session = boto3.Session(profile_name=profile)
    except ProfileNotFound:
        raise S3Error(f"AWS profile {profile!r} is not in the AWS config files") from None
    config = Config(
        retries={"mode": "adaptive", "max_attempts": max_attempts},
        connect_timeout=10,
        read_timeout=60,
    )
    return session.client("s3", endpoint_url=endpoint_url, config=config)


def list_objects(client: S3Client, location: S3Location) -> Iterator[ListedObject]:
    """Every object under the prefix, one page in memory at a time."""
    paginator = client.get_paginator("list_objects_v2")
    pages = paginator.paginate(
        Bucket=location.bucket, Prefix=location.prefix, PaginationConfig={"PageSize": 1000}
    )
    try:
        for page in pages:
            for entry in page.get("Contents", ()):
                yield ListedObject(
                    key=entry["Key"],
                    size=int(entry["Size"]),
                    last_modified=entry["LastModified"].astimezone(UTC),
                    etag=_etag(entry.get("ETag")),
                )
    except NoCredentialsError:
        raise S3Error(
            f"{location.uri}: no AWS credentials found; pass --profile or set AWS_PROFILE "
            "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from None
    except (ClientError, BotoCoreError) as error:
        raise S3Error(f"{location.uri}: cannot list objects ({_reason(error)})") from None


def collect_s3(
    locker: Locker,
    matrix: ControlMatrix,
    client: S3Client,
    locations: list[S3Location],
    period: Period,
    *,
    template: KeyTemplate | None = None,
    progress: Progress | None = None,
    clock: Callable[[], datetime] | None = None,
) -> S3Summary:
    """Collect the objects of the period under each location into the locker."""
    collector = _Collector(
        locker,
        matrix,
        client,
        period,
        template,
        progress or NoProgress(),
        clock or (lambda: datetime.now(UTC)),
    )
    for location in locations:
        collector.collect(location)
    return collector.summary


def object_day(
    location: S3Location, listed: ListedObject, template: KeyTemplate | None
) -> tuple[date, KeyFacts]:
    """The day an object belongs to: the key's date when it has one, else LastModified."""
    relative = location.relative(listed.key)
    facts = (template.match(relative) if template else None) or KeyFacts()
    if facts.day is not None:
        return facts.day, facts
    sidekick = _SIDEKICK_KEY.search(listed.key)
    if sidekick is not None:
        try:
            return date.fromisoformat(sidekick[1]), facts
        except ValueError:
            pass
    return listed.last_modified.date(), facts


class _Collector:
    def __init__(
        self,
        locker: Locker,
        matrix: ControlMatrix,
        client: S3Client,
        period: Period,
        template: KeyTemplate | None,
        progress: Progress,
        clock: Callable[[], datetime],
    ) -> None:
        self.locker = locker
        self.matrix = matrix
        self.client = client
        self.period = period
        self.template = template
        self.progress = progress
        self.clock = clock
        self.summary = S3Summary()
        self._attributes = True  # the store answers GetObjectAttributes
        self._gate_ids = {gate.id for gate in matrix.gates}
        self._runtime_gate = runtime_gate(matrix)

    def collect(self, location: S3Location) -> None:
        started = self.clock()
        listed = in_period = held = 0
        for listed_object in list_objects(self.client, location):
            listed += 1
            self.progress.advance("objects listed")
            day, facts = object_day(location, listed_object, self.template)
            if self.period.first_day <= day <= self.period.last_day:
                in_period += 1
                held += self._collect_object(location, listed_object, day, facts)
        self.summary.listed += listed
        self.summary.in_period += in_period
        self._record_population(location, started, listed, in_period, held)

    def _record_population(
        self, location: S3Location, started: datetime, listed: int, in_period: int, held: int
    ) -> None:
        # The auditor reconciles the objects of the period that S3 listed with those the
        # locker holds; the difference is the objects recorded as gaps.
        dated_by = "LastModified or falcosidekick's date folder"
        if self.template is not None and self.template.has_date:
            dated_by = f"the key template {self.template.text}"
        query = (
            f"ListObjectsV2 Bucket={location.bucket} Prefix={location.prefix!r} "
            f"({listed} objects); those dated {self.period.first_day}..{self.period.last_day} "
            f"by {dated_by}"
        )
        population = Population(f"s3 {location.uri}", location.uri, query, started, held, in_period)
        with self.locker.transaction() as writer:
            writer.set_population(population)

    def _collect_object(
        self, location: S3Location, listed: ListedObject, day: date, facts: KeyFacts
    ) -> bool:
        """Fetch and import one object unless the locker has it; returns whether it holds it."""
        source = f"s3://{location.bucket}/{listed.key}"
        if any(item.etag == listed.etag for item in self.locker.items_from(source)):
            self.summary.already_collected += 1  # held, whether it could be read or not
            return True
        if self.locker.checkpoint(f"s3-malformed {source}") == listed.etag:
            self.summary.already_collected += 1  # unreadable last time, and unchanged
            return False
        try:
            details = self._details(location.bucket, listed.key)
            path, sha256 = self._download(location.bucket, listed.key, details.version_id)
        except (ClientError, BotoCoreError, OSError) as error:
            self._gap(GapKind.FETCH_FAILED, source, f"{source}: {_reason(error)}", facts)
            return False
        try:
            return self._import(location, listed, day, facts, details, source, path, sha256)
        finally:
            path.unlink(missing_ok=True)

    def _details(self, bucket: str, key: str) -> ObjectFacts:
        # head_object gives the lock mode and retain-until date in one call, which also works
        # where GetObjectRetention is missing (moto, some S3-compatible stores).
        head = self.client.head_object(Bucket=bucket, Key=key)
        version = head.get("VersionId")
        retain = head.get("ObjectLockRetainUntilDate")
        checksum, kind = self._checksum(bucket, key, version)
        return ObjectFacts(
            version_id=None if version in (None, "null") else version,
            lock_mode=head.get("ObjectLockMode"),
            retain_until=retain.astimezone(UTC) if retain else None,
            etag=_etag(head.get("ETag")),
            checksum_sha256=checksum,
            checksum_type=kind,
        )

    def _checksum(
        self, bucket: str, key: str, version: str | None
    ) -> tuple[str | None, str | None]:
        if not self._attributes:
            return None, None
        arguments = {"Bucket": bucket, "Key": key, "ObjectAttributes": ["Checksum"]}
        if version and version != "null":
            arguments["VersionId"] = version
        try:
            answer = self.client.get_object_attributes(**arguments)
        except ClientError as error:
            if _code(error) not in _NO_ATTRIBUTES:
                raise
            log.info("s3://%s: no GetObjectAttributes (%s); no checksums", bucket, _code(error))
            self._attributes = False
            return None, None
        checksum = answer.get("Checksum") or {}
        return checksum.get("ChecksumSHA256"), checksum.get("ChecksumType")

    def _download(self, bucket: str, key: str, version: str | None) -> tuple[Path, str]:
        arguments = {"Bucket": bucket, "Key": key}
        if version:
            arguments["VersionId"] = version
        body = self.client.get_object(**arguments)["Body"]
        digest = hashlib.sha256()
        handle, name = tempfile.mkstemp(dir=self.locker.root / "tmp", suffix=".s3")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in body.iter_chunks(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    self.summary.bytes += len(chunk)
                    self.progress.advance("bytes downloaded", len(chunk))
        except BaseException:
            os.unlink(name)
            raise
        self.summary.downloaded += 1
        self.progress.advance("objects downloaded")
        return Path(name), digest.hexdigest()

    def _import(
        self,
        location: S3Location,
        listed: ListedObject,
        day: date,
        facts: KeyFacts,
        details: ObjectFacts,
        source: str,
        path: Path,
        sha256: str,
    ) -> bool:
        mismatch = _checksum_mismatch(details, sha256)
        if mismatch:
            self._gap(GapKind.FETCH_FAILED, source, f"{source}: {mismatch}", facts)
            return False
        origin = self._origin(listed, day, facts, details, source, location)
        if self._is_falco(listed.key, facts, path):
            result = import_falco(self.locker, self.matrix, path, origin)
        else:
            result = import_sarif(self.locker, self.matrix, path, origin)
        self._after_import(result, source, details.etag or listed.etag)
        return result.item_id is not None

    def _origin(
        self,
        listed: ListedObject,
        day: date,
        facts: KeyFacts,
        details: ObjectFacts,
        source: str,
        location: S3Location,
    ) -> Origin:
        gate = facts.gate if facts.gate in self._gate_ids else None
        if facts.gate is not None and gate is None:
            log.warning("%s: the key names gate %r, which the matrix lacks", source, facts.gate)
        # A key dated by the CI job names the day of the scan; the upload may come later.
        produced = listed.last_modified
        if produced.date() != day:
            produced = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return Origin(
            source=source,
            retrieved_at=self.clock(),
            repository=facts.repository,
            produced_at=produced,
            version_id=details.version_id,
            etag=details.etag or listed.etag,
            object_lock_mode=details.lock_mode,
            object_lock_retain_until=details.retain_until,
            gate=gate,
            classify_path=location.relative(listed.key) or listed.key,
            checksum_sha256=details.checksum_sha256,
        )

    def _is_falco(self, key: str, facts: KeyFacts, path: Path) -> bool:
        if facts.gate is not None and facts.gate == self._runtime_gate:
            return True
        if key.lower().endswith(_FALCO_SUFFIXES) or _SIDEKICK_KEY.search(key):
            return True
        head = _sniff(path)
        # SARIF names its runs early; a Falco event names its rule and priority.
        return b'"runs"' not in head and b'"rule"' in head and b'"priority"' in head

    def _after_import(self, result: ImportResult, source: str, etag: str) -> None:
        if result.gap is not None:
            self.summary.gaps.append(result.gap)
            # The same bytes will not become readable: skip them next time, until the ETag moves.
            with self.locker.transaction() as writer:
                writer.set_checkpoint(f"s3-malformed {source}", etag)
        elif result.new:
            self.summary.new_items += 1

    def _gap(self, kind: GapKind, source: str, reason: str, facts: KeyFacts) -> None:
        gap = EvidenceGap(
            kind,
            source,
            _one_line(reason),
            self.clock(),
            gate=facts.gate,
            repository=facts.repository,
        )
        with self.locker.transaction() as writer:
            writer.add_gap(gap)
        self.summary.gaps.append(gap)
        log.warning("%s", gap.reason)


def _checksum_mismatch(details: ObjectFacts, sha256: str) -> str | None:
    """S3's full-object SHA-256 must equal the hash of what arrived; composite ones cannot."""
    value = details.checksum_sha256
    if not value or "-" in value or details.checksum_type == "COMPOSITE":
        return None
    expected = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
    if value == expected:
        return None
    return f"downloaded bytes do not match S3's ChecksumSHA256 ({value} != {expected})"


def _sniff(path: Path) -> bytes:
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF)
    if head.startswith(b"\x1f\x8b"):
        try:
            with gzip.open(path, "rb") as unzipped:
                return unzipped.read(_SNIFF)
        except (OSError, EOFError, zlib.error):
            return b""
    return head


def _etag(value: str | None) -> str:
    return (value or "").strip('"')


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _reason(error: BaseException) -> str:
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"{detail.get('Code', 'error')} (HTTP {status}): {detail.get('Message', '')}".strip()
    return _one_line(error) or type(error).__name__


def _one_line(text: object) -> str:
    return " ".join(str(text).split())
