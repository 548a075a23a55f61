-- Softphones' registrations, so agents stay reachable across a restart of the engine: a
-- softphone registers again only when its own refresh is due, which may be an hour away.
-- One row per contact of an agent; rows whose time has passed are ignored at start-up.
CREATE TABLE registration (
    agent_id   TEXT NOT NULL,
    uri        TEXT NOT NULL,
    source     TEXT NOT NULL,               -- transport address the REGISTER came from
    call_id    TEXT NOT NULL,
    cseq       INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,            -- Unix milliseconds
    PRIMARY KEY (agent_id, uri)
) STRICT;
