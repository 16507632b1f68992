-- The evidence locker's index. Times are UTC ISO 8601 text with microseconds.
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    produced_at TEXT NOT NULL,
    retrieved_at TEXT NOT NULL,
    size INTEGER NOT NULL,
    gate TEXT,
    repository TEXT,
    run_id INTEGER,
    version_id TEXT,
    etag TEXT,
    object_lock_mode TEXT,
    object_lock_retain_until TEXT,
    redacted INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    checksum_sha256 TEXT
);
CREATE UNIQUE INDEX items_identity ON items (sha256, source, ifnull(version_id, ''));
CREATE INDEX items_source ON items (source);

CREATE TABLE sarif_runs (
    item_id INTEGER NOT NULL REFERENCES items (id),
    run_index INTEGER NOT NULL,
    tool TEXT NOT NULL,
    tool_version TEXT,
    category TEXT,
    gate TEXT,
    PRIMARY KEY (item_id, run_index)
);

CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items (id),
    run_index INTEGER NOT NULL,
    gate TEXT,
    tool TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL,
    uri TEXT,
    start_line INTEGER,
    suppressed INTEGER NOT NULL,
    baseline_state TEXT,
    fix_available INTEGER,
    fingerprint TEXT NOT NULL
);
CREATE INDEX findings_item ON findings (item_id);

CREATE TABLE runs (
    repository TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    workflow_name TEXT NOT NULL,
    workflow_path TEXT NOT NULL,
    event TEXT NOT NULL,
    branch TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    status TEXT NOT NULL,
    conclusion TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    url TEXT NOT NULL,
    item_id INTEGER NOT NULL REFERENCES items (id),
    PRIMARY KEY (repository, run_id, attempt)
);
CREATE INDEX runs_created ON runs (created_at);

CREATE TABLE executions (
    repository TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    gate TEXT NOT NULL,
    job_id INTEGER NOT NULL,
    job_name TEXT NOT NULL,
    step_name TEXT NOT NULL,
    outcome TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT,
    item_id INTEGER NOT NULL REFERENCES items (id),
    PRIMARY KEY (repository, job_id, step_name, gate)
);

CREATE TABLE gaps (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    gate TEXT,
    repository TEXT,
    run_id INTEGER,
    UNIQUE (kind, source)
);

CREATE TABLE populations (
    name TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    query TEXT NOT NULL,
    extracted_at TEXT NOT NULL,
    count INTEGER NOT NULL,
    source_count INTEGER
);

-- Collectors' state: resumption cursors, ETags of conditional requests.
CREATE TABLE checkpoints (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Runtime detection events (Falco), one row per alert; output and fields already redacted.
CREATE TABLE falco_events (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items (id),
    uuid TEXT,
    time TEXT NOT NULL,
    priority TEXT NOT NULL,
    rule TEXT NOT NULL,
    source TEXT,
    hostname TEXT,
    output TEXT NOT NULL,
    internal INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX falco_events_time ON falco_events (time);

-- Added in schema 2: the workflow files in effect during a period, one row per commit that
-- changed a file (and the commit in effect at the period's start); content in item_id.
CREATE TABLE IF NOT EXISTS workflow_versions (
    repository TEXT NOT NULL,
    path TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    committed_at TEXT NOT NULL,
    item_id INTEGER NOT NULL REFERENCES items (id),
    PRIMARY KEY (repository, path, commit_sha)
);

-- Added in schema 3: how many rules each SARIF run says it ran (0 with no results: a scan
-- that could not have found anything).
ALTER TABLE sarif_runs ADD COLUMN rule_count INTEGER;
