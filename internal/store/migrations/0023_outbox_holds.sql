-- Holding a paused source's messages (issue 5: pausing a campaign holds what
-- it queued). A row here holds every unsent message of (source_kind,
-- source_id): the dispatcher's claim skips them, whatever their state, so a
-- message queued by a launch batch that committed after the pause, or put
-- back after a failed attempt, is held too. held_due keeps a held message's
-- own send time while next_attempt_at is moved past every claim's range, so
-- a million held messages cost the claim's index scan nothing; the resume
-- gives each its time back (or the next free throttle slot when it passed).
CREATE TABLE outbox_holds (
    source_kind TEXT NOT NULL,
    source_id   BIGINT NOT NULL,
    held_at     {{ts}} NOT NULL,
    PRIMARY KEY (source_kind, source_id)
);
ALTER TABLE outbox_messages ADD COLUMN held_due {{ts}};
