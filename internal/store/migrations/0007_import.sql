-- Batch import and identity resolution (issue 4, items 1 and 2): the source
-- systems and how far each is trusted, per-field survivorship rules, the
-- links from source records to customers with their field fingerprints,
-- per-field provenance, the suspected-duplicate queue, import jobs with their
-- rejects, and the keys that make re-importing a file change nothing.

-- Source systems customer data comes from. priority: lower is more trusted;
-- it decides fields under the 'priority' rule. 'kehu' stands for edits made
-- in Kehu itself (UI, API, PIPL rectification).
CREATE TABLE source_systems (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    priority   INTEGER NOT NULL,
    created_at {{ts}} NOT NULL
);
INSERT INTO source_systems (code, name, name_en, priority, created_at) VALUES
    ('kehu', '客户关系管理系统录入', 'Edits in Kehu', 0, CURRENT_TIMESTAMP),
    ('core_banking', '核心业务系统', 'Core banking', 10, CURRENT_TIMESTAMP),
    ('credit', '信贷管理系统', 'Credit', 20, CURRENT_TIMESTAMP),
    ('cards', '信用卡系统', 'Cards', 30, CURRENT_TIMESTAMP),
    ('wealth', '财富管理系统', 'Wealth management', 40, CURRENT_TIMESTAMP),
    ('crm_legacy', '旧版客户关系管理系统', 'Legacy CRM', 50, CURRENT_TIMESTAMP);

-- The survivorship rule of each customer field (internal/identity):
-- priority = the most trusted source wins; recent = the latest observation
-- wins; first = set at creation, then only by a transfer or an edit.
CREATE TABLE identity_field_rules (
    field      TEXT PRIMARY KEY,
    rule       TEXT NOT NULL CHECK (rule IN ('priority','recent','first')),
    updated_at {{ts}} NOT NULL
);
INSERT INTO identity_field_rules (field, rule, updated_at) VALUES
    ('name', 'priority', CURRENT_TIMESTAMP),
    ('identity', 'priority', CURRENT_TIMESTAMP),
    ('gender', 'priority', CURRENT_TIMESTAMP),
    ('birth_date', 'priority', CURRENT_TIMESTAMP),
    ('industry', 'priority', CURRENT_TIMESTAMP),
    ('registered_capital', 'priority', CURRENT_TIMESTAMP),
    ('mobile', 'recent', CURRENT_TIMESTAMP),
    ('email', 'recent', CURRENT_TIMESTAMP),
    ('address', 'recent', CURRENT_TIMESTAMP),
    ('risk', 'recent', CURRENT_TIMESTAMP),
    ('org_id', 'first', CURRENT_TIMESTAMP),
    ('owner_id', 'first', CURRENT_TIMESTAMP);

-- A merged customer points at the survivor (set by the merge of the
-- suspected-duplicate review); resolution follows it.
ALTER TABLE customers ADD COLUMN merged_into BIGINT REFERENCES customers(id);
CREATE INDEX customers_merged_into ON customers(merged_into) WHERE merged_into IS NOT NULL;

-- Import jobs. status: queued → running → done | failed | cancelled;
-- rolled_back after a rollback. checkpoint_line is the last file line whose
-- batch committed, with the counts, in the same transaction as the rows.
-- heartbeat_at moves while a runner works on the job: a running job whose
-- heartbeat stopped was interrupted (the process died) and may be resumed or
-- rolled back.
CREATE TABLE import_jobs (
    id              {{pk}},
    kind            TEXT NOT NULL CHECK (kind IN ('customers','accounts','holdings','transactions','relationships','events')),
    file_name       TEXT NOT NULL,
    file_sha256     TEXT NOT NULL,
    file_size       BIGINT NOT NULL DEFAULT 0,
    file_path       TEXT NOT NULL DEFAULT '',
    encoding        TEXT NOT NULL DEFAULT '',
    source_system   TEXT NOT NULL REFERENCES source_systems(code),
    mapping         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('queued','running','done','failed','cancelled','rolled_back')),
    total           BIGINT NOT NULL DEFAULT 0,
    accepted        BIGINT NOT NULL DEFAULT 0,
    rejected        BIGINT NOT NULL DEFAULT 0,
    created         BIGINT NOT NULL DEFAULT 0,
    updated         BIGINT NOT NULL DEFAULT 0,
    unchanged       BIGINT NOT NULL DEFAULT 0,
    merged          BIGINT NOT NULL DEFAULT 0,
    suspected       BIGINT NOT NULL DEFAULT 0,
    checkpoint_line BIGINT NOT NULL DEFAULT 0,
    error           TEXT NOT NULL DEFAULT '',
    created_by      BIGINT REFERENCES users(id),
    created_by_name TEXT NOT NULL DEFAULT '',
    actor_role      TEXT NOT NULL DEFAULT '',
    actor_org_id    BIGINT,
    created_at      {{ts}} NOT NULL,
    started_at      {{ts}},
    finished_at     {{ts}},
    heartbeat_at    {{ts}}
);
CREATE INDEX import_jobs_created_by ON import_jobs(created_by, id);
-- One import of a file (by content) per kind at a time: a second upload of
-- the same file while the first is queued or running is refused.
CREATE UNIQUE INDEX import_jobs_active ON import_jobs(kind, file_sha256) WHERE status IN ('queued','running');

-- Rejected rows, for the downloadable report. reason never holds a personal
-- value in clear (masked as the vault masks it).
CREATE TABLE import_rejects (
    job_id BIGINT NOT NULL REFERENCES import_jobs(id),
    line   BIGINT NOT NULL,
    col    TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (job_id, line, col)
);

-- Source records linked to customers. prints are the keyed fingerprints of
-- the fields of the source's last record (comma-separated, in
-- identity.Fields order): a field is a new observation only when its
-- fingerprint changes, so re-sending a record changes nothing. origin marks
-- the record that created the customer; observed_at is when the source last
-- observed it (its updated_at column, else the import time).
CREATE TABLE customer_sources (
    id            {{pk}},
    source_system TEXT NOT NULL REFERENCES source_systems(code),
    source_id     TEXT NOT NULL,
    customer_id   BIGINT NOT NULL REFERENCES customers(id),
    origin        BOOLEAN NOT NULL DEFAULT FALSE,
    matched_by    TEXT NOT NULL,
    job_id        BIGINT REFERENCES import_jobs(id),
    line          BIGINT NOT NULL DEFAULT 0,
    prints        TEXT NOT NULL DEFAULT '',
    observed_at   {{ts}} NOT NULL,
    linked_at     {{ts}} NOT NULL,
    UNIQUE (source_system, source_id)
);
CREATE INDEX customer_sources_customer ON customer_sources(customer_id);
CREATE INDEX customer_sources_job ON customer_sources(job_id);

-- Where a field's value came from, when it differs from the customer's
-- origin record (no row: the origin source at its observed_at; no origin:
-- Kehu at the customer's creation).
CREATE TABLE customer_field_provenance (
    customer_id   BIGINT NOT NULL REFERENCES customers(id),
    field         TEXT NOT NULL,
    source_system TEXT NOT NULL,
    set_at        {{ts}} NOT NULL,
    job_id        BIGINT REFERENCES import_jobs(id),
    PRIMARY KEY (customer_id, field)
);

-- Pairs of customers that may be the same person, for a person to decide
-- (customer_id < other_id). evidence names the fields that matched, never
-- their values.
CREATE TABLE duplicate_candidates (
    id          {{pk}},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    other_id    BIGINT NOT NULL REFERENCES customers(id),
    rule        TEXT NOT NULL,
    score       INTEGER NOT NULL,
    evidence    TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','merged','dismissed')),
    job_id      BIGINT REFERENCES import_jobs(id),
    created_at  {{ts}} NOT NULL,
    decided_by  BIGINT REFERENCES users(id),
    decided_at  {{ts}},
    UNIQUE (customer_id, other_id)
);
CREATE INDEX duplicate_candidates_status ON duplicate_candidates(status, id);
CREATE INDEX duplicate_candidates_other ON duplicate_candidates(other_id);

-- Keys of the accounts, holdings, transactions, relationships and events an
-- import created, per source: re-importing a row finds its key and writes
-- nothing new; a rollback finds what the job created. source_key is the
-- source's own id of the record (a transaction's reference), or a keyed
-- digest when the file has none — never an account number in clear.
CREATE TABLE import_keys (
    kind          TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_key    TEXT NOT NULL,
    row_id        BIGINT NOT NULL,
    job_id        BIGINT NOT NULL REFERENCES import_jobs(id),
    line          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, source_system, source_key)
);
CREATE INDEX import_keys_job ON import_keys(job_id);
