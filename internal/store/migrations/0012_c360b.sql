-- Customer 360, second round (issue 4): structured contact preferences (the
-- campaign contact policy reads them) and resumable bank-wide recomputes of
-- the computed tags.

-- How the customer wants to be contacted. contact_from/contact_to are
-- 'HH:MM' in Asia/Shanghai ('' both: any time; from after to: across
-- midnight); contact_days '' (any day), 'weekdays' or 'weekends'; language
-- '' (not told), 'zh' (普通话), 'yue' (粤语), 'en' or 'other'; do_not_call: the
-- customer asked not to be phoned (note says what else they asked). The
-- free-text contact_time this table started with is superseded by the window
-- and no longer written or shown; it stays because rows and tests of other
-- modules still name it.
ALTER TABLE customer_preferences ADD COLUMN contact_from TEXT NOT NULL DEFAULT '';
ALTER TABLE customer_preferences ADD COLUMN contact_to TEXT NOT NULL DEFAULT '';
ALTER TABLE customer_preferences ADD COLUMN contact_days TEXT NOT NULL DEFAULT ''
    CHECK (contact_days IN ('', 'weekdays', 'weekends'));
ALTER TABLE customer_preferences ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE customer_preferences ADD COLUMN do_not_call BOOLEAN NOT NULL DEFAULT FALSE;

-- tag_runs records bank-wide recomputes of computed tags. Each batch commits
-- its tag changes together with after_id (the last customer done) and the
-- counts, so a run that died resumes after its last committed batch. as_of is
-- the moment the rules are evaluated at, kept by a resumed run so the whole
-- bank is judged at one instant.
CREATE TABLE tag_runs (
    id           {{pk}},
    status       TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    trigger      TEXT NOT NULL,
    started_at   {{ts}} NOT NULL,
    heartbeat_at {{ts}} NOT NULL,
    finished_at  {{ts}},
    as_of        {{ts}} NOT NULL,
    after_id     BIGINT NOT NULL DEFAULT 0,
    customers    BIGINT NOT NULL DEFAULT 0,
    added        BIGINT NOT NULL DEFAULT 0,
    removed      BIGINT NOT NULL DEFAULT 0,
    changed      BIGINT NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tag_runs_status ON tag_runs(status, id);
-- At most one run is running: two processes starting at the same moment both
-- see no live run, and the second insert (or resume) fails on this index.
CREATE UNIQUE INDEX tag_runs_one_running ON tag_runs(status) WHERE status = 'running';

-- A manual tag may demand a reason when put on (黑名单, 重点关注: say why);
-- emotion tags always do. Computed tags explain themselves.
ALTER TABLE tags ADD COLUMN reason_required BOOLEAN NOT NULL DEFAULT FALSE;
