-- Journeys: event-triggered marketing rules (issue 5, item 5; docs/JOURNEYS.md).
-- A journey has a trigger with its conditions, an optional segment, actions
-- and a re-entry rule; every save is a new version kept in journey_versions,
-- so a firing names the definition it ran under.

-- definition is the JSON of journey.Definition (trigger, conditions,
-- segment, actions, re-entry days). status: active or paused.
CREATE TABLE journeys (
    id          {{pk}},
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    trigger     TEXT NOT NULL,
    definition  TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active','paused')),
    version     INTEGER NOT NULL,
    created_by  BIGINT NOT NULL REFERENCES users(id),
    updated_by  BIGINT NOT NULL REFERENCES users(id),
    created_at  {{ts}} NOT NULL,
    updated_at  {{ts}} NOT NULL
);

CREATE TABLE journey_versions (
    journey_id  BIGINT NOT NULL REFERENCES journeys(id),
    version     INTEGER NOT NULL,
    name        TEXT NOT NULL,
    definition  TEXT NOT NULL,
    created_by  BIGINT NOT NULL REFERENCES users(id),
    created_at  {{ts}} NOT NULL,
    PRIMARY KEY (journey_id, version)
);

-- One row per firing: a journey acted for a customer on one trigger event
-- (ref: "txn:<id>", "event:<id>", "level:<id>", "holding:<id>:<date>",
-- "birthday:<year>", "dormant:<date>"). The unique key makes a replay of the
-- same event fire nothing twice. outcomes is the JSON of the actions'
-- outcomes.
CREATE TABLE journey_firings (
    id          {{pk}},
    journey_id  BIGINT NOT NULL REFERENCES journeys(id),
    version     INTEGER NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    ref         TEXT NOT NULL,
    occurred_at {{ts}} NOT NULL,
    fired_at    {{ts}} NOT NULL,
    outcomes    TEXT NOT NULL DEFAULT '[]',
    UNIQUE (journey_id, customer_id, ref)
);
-- The re-entry rule reads a customer's last firing of a journey.
CREATE INDEX journey_firings_customer ON journey_firings(journey_id, customer_id, fired_at);
CREATE INDEX journey_firings_recent ON journey_firings(journey_id, id);

-- One row per action of a firing, for the results by outcome.
-- outcome: queued, deferred, suppressed, duplicate, task_created,
-- lead_created, tagged, failed; reason: the policy reason of a suppression.
CREATE TABLE journey_actions (
    firing_id  BIGINT NOT NULL REFERENCES journey_firings(id),
    seq        INTEGER NOT NULL,
    journey_id BIGINT NOT NULL REFERENCES journeys(id),
    kind       TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    ref_id     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (firing_id, seq)
);
CREATE INDEX journey_actions_journey ON journey_actions(journey_id, kind, outcome);

-- The engine's read positions: transactions.id, channel_events.id and
-- level_changes.id already evaluated, updated in the transaction of the
-- firings they caused.
CREATE TABLE journey_cursors (
    name       TEXT PRIMARY KEY,
    position   BIGINT NOT NULL,
    updated_at {{ts}} NOT NULL
);

-- A customer's birthday calendar for the birthday trigger: solar (the
-- default) or lunar (the lunar date of birth, converted to this year's
-- solar date).
ALTER TABLE customer_preferences ADD COLUMN birthday_calendar TEXT NOT NULL DEFAULT 'solar'
    CHECK (birthday_calendar IN ('solar','lunar'));
