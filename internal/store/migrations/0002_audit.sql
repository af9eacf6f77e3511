-- Audit trail: an append-only, hash-chained log of who did what to which
-- customer (docs/AUDIT.md). Each row's hash is SHA-256(prev_hash || canonical
-- bytes of the row), so an edited, inserted or deleted row breaks the chain.
-- Triggers refuse UPDATE and DELETE; the only deletion allowed is of rows a
-- retention checkpoint covers (audit_checkpoint records the hash of the last
-- purged row, so the remaining chain still verifies from there).
-- Lines after "-- @sqlite" or "-- @postgres" apply to that engine only, until
-- "-- @all".

CREATE TABLE audit_log (
    id          {{pk}},
    at          {{ts}} NOT NULL,
    actor_id    BIGINT,
    username    TEXT NOT NULL DEFAULT '',
    role        TEXT NOT NULL DEFAULT '',
    org_id      BIGINT,
    session_id  BIGINT,
    ip          TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    customer_id BIGINT,
    object      TEXT NOT NULL DEFAULT '',
    changes     {{json}},
    reason      TEXT NOT NULL DEFAULT '',
    count       BIGINT NOT NULL DEFAULT 0,
    outcome     TEXT NOT NULL DEFAULT '',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
-- Searches: one customer's history, one actor's actions, one action; all by
-- time and keyset-paged on id (newest first).
CREATE INDEX audit_log_customer ON audit_log(customer_id, id);
CREATE INDEX audit_log_actor ON audit_log(username, id);
CREATE INDEX audit_log_action ON audit_log(action, id);
CREATE INDEX audit_log_at ON audit_log(at);

-- One row, updated by every append before it reads the chain head: the row
-- lock serialises appends on PostgreSQL (SQLite has one writer anyway).
CREATE TABLE audit_chain (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    appends BIGINT NOT NULL
);
INSERT INTO audit_chain (id, appends) VALUES (1, 0);

-- One row per retention purge: rows with id <= last_id were deleted; the
-- first remaining row's prev_hash must equal last_hash.
CREATE TABLE audit_checkpoint (
    id        {{pk}},
    purged_at {{ts}} NOT NULL,
    cutoff    {{ts}} NOT NULL,
    last_id   BIGINT NOT NULL,
    last_hash TEXT NOT NULL,
    purged    BIGINT NOT NULL
);

-- @sqlite
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.id > (SELECT coalesce(max(last_id), 0) FROM audit_checkpoint)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoint is append-only');
END;
CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoint is append-only');
END;
-- @postgres
CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_log'
       AND OLD.id <= (SELECT coalesce(max(last_id), 0) FROM audit_checkpoint) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard();
-- @all
