"""The one exception family of evidence collection and storage."""


class CollectionError(Exception):
    """Evidence could not be read, fetched or stored. The message names the source and the fix."""


class SarifError(CollectionError):
    """A file is not SARIF 2.1.0 that auditpack can read."""


class LockerError(CollectionError):
    """The evidence locker is missing, damaged or was written by another version."""
