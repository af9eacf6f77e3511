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

-- Merges of suspected duplicates (issue 4, item 2): the merge log. A merge
-- moves the merged customer's records to the survivor and leaves the merged
-- customer as a tombstone (customers.merged_into, status 'merged'); undo
-- moves back exactly what the merge moved. customer_merges keeps what the two
-- customer rows looked like before (status and updated_at), so undo restores
-- them as they were.
CREATE TABLE customer_merges (
    id                 {{pk}},
    survivor_id        BIGINT NOT NULL REFERENCES customers(id),
    merged_id          BIGINT NOT NULL REFERENCES customers(id),
    candidate_id       BIGINT REFERENCES duplicate_candidates(id),
    status             TEXT NOT NULL CHECK (status IN ('merged','undone')),
    reason             TEXT NOT NULL DEFAULT '',
    fields             TEXT NOT NULL DEFAULT '',
    merged_status      TEXT NOT NULL,
    merged_updated_at  {{ts}} NOT NULL,
    survivor_updated_at {{ts}} NOT NULL,
    merged_by          BIGINT NOT NULL REFERENCES users(id),
    merged_at          {{ts}} NOT NULL,
    undone_by          BIGINT REFERENCES users(id),
    undone_at          {{ts}},
    undo_reason        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX customer_merges_survivor ON customer_merges(survivor_id, id);
CREATE INDEX customer_merges_merged ON customer_merges(merged_id, id);

-- What one merge moved, row by row. action: moved (the row's customer column
-- went from the merged customer to the survivor; row_key names the column
-- when a table has two, as relationships), inserted (a row the merge created
-- for the survivor), replaced (a survivor row the merge overwrote; old_data
-- holds its previous values as JSON). row_id is the row's id or the numeric
-- part of its key (a tag id); row_key its text part (a consent channel, a
-- provenance field).
CREATE TABLE customer_merge_moves (
    id         {{pk}},
    merge_id   BIGINT NOT NULL REFERENCES customer_merges(id),
    table_name TEXT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('moved','inserted','replaced')),
    row_id     BIGINT NOT NULL DEFAULT 0,
    row_key    TEXT NOT NULL DEFAULT '',
    old_data   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX customer_merge_moves_merge ON customer_merge_moves(merge_id, table_name);
