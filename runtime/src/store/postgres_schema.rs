//! The tables of the PostgreSQL store, created when missing.

/// Inbound events.
pub(super) const INBOX: &str = "
CREATE TABLE IF NOT EXISTS wharf_inbox (
    seq bigserial PRIMARY KEY,
    source text NOT NULL,
    event_id text NOT NULL,
    received_at bigint NOT NULL,
    headers text NOT NULL,
    body bytea NOT NULL,
    order_key text,
    status text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at bigint NOT NULL,
    lease_token text,
    lease_until bigint,
    last_error text,
    dead_at bigint,
    done_at bigint,
    UNIQUE (source, event_id)
);
CREATE INDEX IF NOT EXISTS wharf_inbox_due ON wharf_inbox (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS wharf_inbox_order ON wharf_inbox (source, order_key, seq)
    WHERE order_key IS NOT NULL;
";

/// Outbound messages, their delivery log, and endpoints' state.
pub(super) const OUTBOX: &str = "
CREATE TABLE IF NOT EXISTS wharf_outbox (
    kind text NOT NULL DEFAULT 'webhook',
    seq bigserial PRIMARY KEY,
    message_id text NOT NULL UNIQUE,
    endpoint text NOT NULL,
    event_type text NOT NULL,
    body bytea NOT NULL,
    created_at bigint NOT NULL,
    status text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at bigint NOT NULL,
    lease_token text,
    lease_until bigint,
    last_error text,
    dead_at bigint,
    done_at bigint
);
CREATE INDEX IF NOT EXISTS wharf_outbox_due ON wharf_outbox (kind, status, next_attempt_at);
CREATE TABLE IF NOT EXISTS wharf_outbox_attempts (
    id bigserial PRIMARY KEY,
    message_id text NOT NULL,
    attempt integer NOT NULL,
    at bigint NOT NULL,
    status integer,
    latency_ms bigint NOT NULL,
    error text
);
CREATE INDEX IF NOT EXISTS wharf_outbox_attempts_message ON wharf_outbox_attempts (message_id, id);
CREATE TABLE IF NOT EXISTS wharf_endpoints (
    endpoint text PRIMARY KEY,
    disabled_at bigint,
    disabled_reason text,
    failing_since bigint
);
";

/// Pollers' cursors.
pub(super) const CURSORS: &str = "
CREATE TABLE IF NOT EXISTS wharf_cursors (
    sync text PRIMARY KEY,
    cursor text NOT NULL,
    updated_at bigint NOT NULL
);
";
