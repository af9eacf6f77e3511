-- Segments (issue 5, item 1): saved customer segments — a rule in the
-- segment language (internal/segment), static (its members snapshotted in
-- segment_members) or dynamic (evaluated whenever it is used) — and the
-- indexes the rule compiler's windowed aggregates read through.

CREATE TABLE segments (
    id           {{pk}},
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    -- the rule as canonical JSON (segment.Rule)
    rule         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('static', 'dynamic')),
    owner_id     BIGINT NOT NULL REFERENCES users(id),
    -- the members of a static segment as of snapshot_at; member_count is
    -- the size of that snapshot (NULL for a dynamic segment)
    snapshot_at  {{ts}},
    member_count BIGINT,
    created_at   {{ts}} NOT NULL,
    updated_at   {{ts}} NOT NULL
);
CREATE UNIQUE INDEX segments_name ON segments(name);

-- segment_members is the snapshot of a static segment: the customers the
-- rule selected when it was taken, across the whole bank (readers see it
-- through their own scope).
CREATE TABLE segment_members (
    segment_id  BIGINT NOT NULL REFERENCES segments(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    PRIMARY KEY (segment_id, customer_id)
);
CREATE INDEX segment_members_customer ON segment_members(customer_id);

-- Windowed aggregates ("inflow in the last 7 days") read the postings of a
-- window for all customers at once: by time, covering customer and amount,
-- so the table itself is not touched.
CREATE INDEX transactions_window ON transactions(occurred_at, customer_id, amount);
-- Event counts per kind in a window ("product_view in the last 30 days").
CREATE INDEX channel_events_kind_window ON channel_events(kind, occurred_at, customer_id);
