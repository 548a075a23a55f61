-- Messages (every call is filed) and the cases key 4 reads (zoning files, Article 100 cases).

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tracking_code   TEXT UNIQUE,                 -- reports only; digits with a Verhoeff check digit
    call_id         TEXT NOT NULL,
    line            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    district        INTEGER CHECK (district BETWEEN 1 AND 22),
    category        TEXT,
    case_number     TEXT,
    caller          TEXT NOT NULL,               -- personal data: only behind a token
    recording       TEXT,                        -- name under the recordings folder
    status          TEXT NOT NULL DEFAULT 'received',
    text            TEXT,
    reply_recording TEXT,                        -- a manager's voice reply
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX messages_by_time ON messages (created_at);
CREATE INDEX messages_by_line_kind ON messages (line, kind, created_at);

CREATE TABLE cases (
    kind           TEXT NOT NULL CHECK (kind IN ('zoning', 'article100')),
    number         TEXT NOT NULL,
    district       INTEGER CHECK (district BETWEEN 1 AND 22),
    stage          TEXT NOT NULL,
    last_step_date TEXT NOT NULL,                -- Jalali YYYY/MM/DD
    next_step      TEXT,
    session_date   TEXT,
    verdict        TEXT,
    fine_rials     INTEGER CHECK (fine_rials >= 0),
    served_date    TEXT,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (kind, number)
) STRICT;

CREATE INDEX cases_by_number ON cases (number);
