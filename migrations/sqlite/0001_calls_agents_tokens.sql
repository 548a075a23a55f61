-- Pasokh SQLite schema, first version: call detail records, agents, API tokens.
-- Applied migrations are checksummed: never edit this file once released; add 0002_... instead.
-- Times are Unix milliseconds (UTC). Tables are STRICT so a wrong type is an error, not a surprise.

-- One row per call, inserted when the call is accepted and updated at its end.
CREATE TABLE calls (
    call_id     TEXT PRIMARY KEY NOT NULL,
    caller      TEXT NOT NULL,              -- From user: personal data, only behind a token
    callee      TEXT NOT NULL,              -- dialled number (Request-URI user)
    started_at  INTEGER NOT NULL,
    answered_at INTEGER,
    ended_at    INTEGER,
    disposition TEXT NOT NULL,
    hangup_by   TEXT NOT NULL DEFAULT '',
    dtmf        TEXT NOT NULL DEFAULT ''
) STRICT;

-- "Newest first" listings walk this index backwards instead of sorting the table.
CREATE INDEX calls_by_start ON calls (started_at);

-- Call-takers. Only the digest HA1 hashes are kept, never the password.
CREATE TABLE agents (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    ha1_md5    TEXT NOT NULL,
    ha1_sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE agent_queues (
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    queue    TEXT NOT NULL,
    penalty  INTEGER NOT NULL CHECK (penalty >= 0),
    PRIMARY KEY (agent_id, queue)
) STRICT;

-- Change counters the engine polls cheaply (one indexed row) to reload a topic only when it
-- changed. Triggers bump them, so a write from any process (the CLI, a later web form) counts.
CREATE TABLE change_counters (
    topic   TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL
) STRICT;

INSERT INTO change_counters (topic, version) VALUES ('agents', 0);

CREATE TRIGGER agents_changed_insert AFTER INSERT ON agents
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'agents'; END;
CREATE TRIGGER agents_changed_update AFTER UPDATE ON agents
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'agents'; END;
CREATE TRIGGER agents_changed_delete AFTER DELETE ON agents
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'agents'; END;
CREATE TRIGGER agent_queues_changed_insert AFTER INSERT ON agent_queues
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'agents'; END;
CREATE TRIGGER agent_queues_changed_update AFTER UPDATE ON agent_queues
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'agents'; END;
CREATE TRIGGER agent_queues_changed_delete AFTER DELETE ON agent_queues
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'agents'; END;

-- API bearer tokens, kept only as the SHA-256 of the token text.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
