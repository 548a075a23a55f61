-- Managers' voice mailboxes: who the managers are, how a voice message is screened and referred
-- to a mailbox, the manager's reply, who heard what (the audit log), and the SMS outbox.

-- A manager with a voice mailbox. The phone PIN and the browser password are kept only as salted
-- PBKDF2-SHA256 hashes (`pbkdf2-sha256$ITERATIONS$SALT$HASH`, hex).
CREATE TABLE managers (
    mailbox       TEXT PRIMARY KEY NOT NULL,    -- digits, dialled after *98
    name          TEXT NOT NULL,
    pin_hash      TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- A voice message waits for screening with status 'new'; screening moves it to 'referred' (with
-- the mailbox) or 'rejected' (with one of four reasons); a reply moves it to 'replied'.
ALTER TABLE messages ADD COLUMN mailbox TEXT;
ALTER TABLE messages ADD COLUMN reject_reason TEXT;
ALTER TABLE messages ADD COLUMN screened_by TEXT;
ALTER TABLE messages ADD COLUMN screened_at INTEGER;
ALTER TABLE messages ADD COLUMN replied_by TEXT;
ALTER TABLE messages ADD COLUMN replied_at INTEGER;
ALTER TABLE messages ADD COLUMN reply_channel TEXT;   -- 'phone' or 'web'

UPDATE messages SET status = 'new' WHERE status = 'received' AND recording IS NOT NULL;

CREATE INDEX messages_by_status ON messages (status, created_at);
CREATE INDEX messages_by_mailbox ON messages (mailbox, status, created_at);

-- Every access that matters: a screening decision, a listen (phone or browser), a reply, a
-- sign-in. Read by admins at GET /api/audit.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,               -- Unix milliseconds
    actor         TEXT NOT NULL,                  -- a role: screener, manager:501, admin...
    channel       TEXT NOT NULL,                  -- web, phone, cli
    action        TEXT NOT NULL,                  -- screen, listen, reply, handled, sign_in...
    tracking_code TEXT,
    detail        TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX audit_by_time ON audit_log (at);

-- Text messages to citizens, written in the same transaction as what they announce, and sent
-- by the configured sender. A row is sent until a sender acknowledges it (sent_at), then never
-- again; each attempt is recorded.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      INTEGER NOT NULL REFERENCES messages (id),
    reason          TEXT NOT NULL,                -- reply (a reply is waiting)
    recipient       TEXT NOT NULL,                -- the caller's number: personal data
    body            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    sent_at         INTEGER,
    gave_up_at      INTEGER,
    UNIQUE (message_id, reason)
) STRICT;

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND gave_up_at IS NULL;

CREATE TABLE outbox_attempts (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id INTEGER NOT NULL REFERENCES outbox (id),
    at        INTEGER NOT NULL,
    outcome   TEXT NOT NULL,                      -- sent, failed
    detail    TEXT NOT NULL DEFAULT ''
) STRICT;

-- Browser sign-ins of managers last a working day, not forever like an API token.
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;

-- A request for a recording file is checked against the message it belongs to.
CREATE INDEX messages_by_recording ON messages (recording) WHERE recording IS NOT NULL;
CREATE INDEX messages_by_reply ON messages (reply_recording) WHERE reply_recording IS NOT NULL;
CREATE INDEX messages_by_call_recording ON messages (call_recording)
    WHERE call_recording IS NOT NULL;
