-- Encryption at rest (issue 3, item 4). Personal C2 columns hold values
-- sealed by internal/vault ("v1:<key id>:<base64>"), so equality on them is
-- meaningless: exact search and identity uniqueness move to keyed blind
-- indexes (HMAC of the normalised value). The tables are empty at this stage
-- of the project, so no backfill is needed.

-- The keys a database has seen, by id, with a fingerprint (an HMAC under the
-- key itself) but never the key: at start Kehu refuses to run with a key
-- whose fingerprint differs, or without a key that values may still be
-- sealed under. retired marks a data key no value uses any more (set by
-- `kehu keys rotate` when it has re-encrypted everything).
CREATE TABLE vault_keys (
    key_id      TEXT PRIMARY KEY,
    suite       TEXT NOT NULL,
    purpose     TEXT NOT NULL CHECK (purpose IN ('data','index')),
    fingerprint TEXT NOT NULL,
    retired     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  {{ts}} NOT NULL
);

-- Progress of `kehu keys rotate`, one row per table, so a killed rotation
-- continues after the last id it committed.
CREATE TABLE vault_rotation (
    table_name TEXT PRIMARY KEY,
    target_key TEXT NOT NULL,
    last_id    BIGINT NOT NULL DEFAULT 0,
    rewritten  BIGINT NOT NULL DEFAULT 0,
    done       BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at {{ts}} NOT NULL
);

ALTER TABLE customers ADD COLUMN id_number_bidx TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN mobile_bidx TEXT NOT NULL DEFAULT '';
DROP INDEX customers_identity;
DROP INDEX customers_mobile;
CREATE UNIQUE INDEX customers_identity ON customers(id_type, id_number_bidx);
CREATE INDEX customers_mobile ON customers(mobile_bidx);

-- accounts.account_no keeps its inline UNIQUE constraint (SQLite cannot drop
-- it without rebuilding a table that holdings and transactions reference);
-- on randomised ciphertext it never fires. Uniqueness lives here.
ALTER TABLE accounts ADD COLUMN account_no_bidx TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX accounts_number ON accounts(account_no_bidx);
