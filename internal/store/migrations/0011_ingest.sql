-- Incremental feeds (issue 4, item 3): channel events carry the id their
-- source system gave them, so a retried event is recognised and dropped;
-- batches sent with an Idempotency-Key keep their answer for a window, so a
-- retried batch is answered again without being applied twice.

-- event_id is unique per channel (one source system per channel). Events
-- written before feeds existed (the demo, imports of history) have none, and
-- the partial index does not hold them. received_at is when Kehu stored the
-- event; journeys measure their reaction time from it.
ALTER TABLE channel_events ADD COLUMN event_id TEXT;
ALTER TABLE channel_events ADD COLUMN received_at {{ts}};
CREATE UNIQUE INDEX channel_events_source ON channel_events(channel, event_id) WHERE event_id IS NOT NULL;

-- One row per batch sent with an Idempotency-Key, per user (an integration's
-- service account). request_hash is the SHA-256 of kind and body: the same key
-- with another body is refused. result is the JSON answer, replayed verbatim;
-- it is '' while the batch is being applied. Rows past expires_at count as
-- absent and are purged by the nightly run.
CREATE TABLE ingest_batches (
    id           {{pk}},
    user_id      BIGINT NOT NULL REFERENCES users(id),
    idem_key     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    result       TEXT NOT NULL DEFAULT '',
    accepted     INTEGER NOT NULL DEFAULT 0,
    rejected     INTEGER NOT NULL DEFAULT 0,
    duplicates   INTEGER NOT NULL DEFAULT 0,
    received_at  {{ts}} NOT NULL,
    expires_at   {{ts}} NOT NULL,
    UNIQUE (user_id, idem_key)
);
CREATE INDEX ingest_batches_expiry ON ingest_batches(expires_at);
