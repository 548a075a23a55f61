-- The ACD's memory across restarts (agent states) and its history (queue log).

-- One row per agent: the state it was last in, so a pause and its reason survive a restart.
CREATE TABLE agent_state (
    agent_id     TEXT PRIMARY KEY NOT NULL,
    state        TEXT NOT NULL,              -- logged_out, available, offered, on_call, wrap_up, paused
    reason_code  INTEGER,
    reason_label TEXT,
    pending      TEXT,                       -- pause, logout, remove
    pending_code INTEGER,
    updated_at   INTEGER NOT NULL
) STRICT;

-- Every queue event: enter, offer, answer, abandon, exit, overflow, ring-no-answer, pause…
CREATE TABLE queue_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,                 -- Unix milliseconds
    queue  TEXT,
    call   INTEGER,
    agent  TEXT,
    kind   TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX queue_log_by_time ON queue_log (at);
