-- Which call-takers were connected to which message's call. An `agent:ID` token reads and
-- corrects only these messages (during the call and after it), not the whole register.
-- Written when the ACD connects the agent, by the message's tracking code (the message was
-- opened, with its code, before the call was offered).
CREATE TABLE message_agents (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    agent_id   TEXT NOT NULL,
    at         INTEGER NOT NULL,             -- Unix milliseconds, when connected
    PRIMARY KEY (message_id, agent_id)
) STRICT;
