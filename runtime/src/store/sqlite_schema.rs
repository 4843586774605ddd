//! The tables of the SQLite store, created when missing.

/// Inbound events.
pub(super) const INBOX: &str = "
CREATE TABLE IF NOT EXISTS wharf_inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    event_id TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    order_key TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_token TEXT,
    lease_until INTEGER,
    last_error TEXT,
    dead_at INTEGER,
    done_at INTEGER,
    UNIQUE (source, event_id)
);
CREATE INDEX IF NOT EXISTS wharf_inbox_due ON wharf_inbox (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS wharf_inbox_order ON wharf_inbox (source, order_key, seq)
    WHERE order_key IS NOT NULL;
";

/// Outbound messages, their delivery log, and endpoints' state.
pub(super) const OUTBOX: &str = "
CREATE TABLE IF NOT EXISTS wharf_outbox (
    kind TEXT NOT NULL DEFAULT 'webhook',
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    endpoint TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_token TEXT,
    lease_until INTEGER,
    last_error TEXT,
    dead_at INTEGER,
    done_at INTEGER
);
CREATE INDEX IF NOT EXISTS wharf_outbox_due ON wharf_outbox (kind, status, next_attempt_at);
CREATE TABLE IF NOT EXISTS wharf_outbox_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    status INTEGER,
    latency_ms INTEGER NOT NULL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS wharf_outbox_attempts_message ON wharf_outbox_attempts (message_id, id);
CREATE TABLE IF NOT EXISTS wharf_endpoints (
    endpoint TEXT PRIMARY KEY,
    disabled_at INTEGER,
    disabled_reason TEXT,
    failing_since INTEGER
);
";

/// Pollers' cursors.
pub(super) const CURSORS: &str = "
CREATE TABLE IF NOT EXISTS wharf_cursors (
    sync TEXT PRIMARY KEY,
    cursor TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
";
