-- A queue configured with `record = true` records the conversation between caller and agent;
-- the saved file (a name under the recordings folder) is attached to the call's message.
ALTER TABLE messages ADD COLUMN call_recording TEXT;
