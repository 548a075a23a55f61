-- A call's message is found again by its Call-ID: a queued call's message is opened when it
-- enters the queue and completed when the call ends, and a conversation recording is attached
-- to it afterwards. Without this index each of those is a scan of every message ever filed.
CREATE INDEX messages_by_call ON messages (call_id);
