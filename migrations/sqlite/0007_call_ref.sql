-- Calls are keyed by an identifier the engine makes (`call_ref`), not by the SIP Call-ID: the
-- Call-ID is chosen by the caller's phone, and two phones that chose the same one had their call
-- records merged into one row and their messages' tracking codes crossed. The Call-ID stays as
-- data. Rows written before this migration keep their Call-ID as their reference (it was their
-- key, so it is unique among them).

CREATE TABLE calls_by_ref (
    call_ref    TEXT PRIMARY KEY NOT NULL,
    call_id     TEXT NOT NULL,
    caller      TEXT NOT NULL,
    callee      TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    answered_at INTEGER,
    ended_at    INTEGER,
    disposition TEXT NOT NULL,
    hangup_by   TEXT NOT NULL DEFAULT '',
    dtmf        TEXT NOT NULL DEFAULT ''
) STRICT;

INSERT INTO calls_by_ref (call_ref, call_id, caller, callee, started_at, answered_at, ended_at,
                          disposition, hangup_by, dtmf)
    SELECT call_id, call_id, caller, callee, started_at, answered_at, ended_at,
           disposition, hangup_by, dtmf
    FROM calls ORDER BY rowid;

DROP TABLE calls;
ALTER TABLE calls_by_ref RENAME TO calls;
CREATE INDEX calls_by_start ON calls (started_at);
CREATE INDEX calls_by_call_id ON calls (call_id);

-- A message names the call it came from by the same reference; a queued call's message is
-- opened and completed by it, and a conversation recording attached by it.
ALTER TABLE messages ADD COLUMN call_ref TEXT;
UPDATE messages SET call_ref = call_id;
CREATE INDEX messages_by_call_ref ON messages (call_ref);

-- The queue log names the call by the same reference too (its `call` column is the engine's
-- in-memory number, which starts again at every start).
ALTER TABLE queue_log ADD COLUMN call_ref TEXT;
CREATE INDEX queue_log_by_call_ref ON queue_log (call_ref);
