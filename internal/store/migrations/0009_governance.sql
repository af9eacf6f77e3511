-- Governance: the customer-level rule (versioned, exactly one active), each
-- customer's computed level with its metrics and reasons, the level-change
-- history, batch recompute runs; the governed data dictionary (versioned
-- metadata edits); data-quality measurement runs and their results; and the
-- claims of the nightly scheduler. See docs/GOVERNANCE.md.

-- level_rules holds every version of the level rule. A draft is edited until
-- an administrator activates it; the active rule then retires. The partial
-- unique index keeps exactly one active version (the seed below is version 1).
CREATE TABLE level_rules (
    version      INTEGER PRIMARY KEY,
    status       TEXT NOT NULL CHECK (status IN ('draft','active','retired')),
    rule         TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    created_by   BIGINT REFERENCES users(id),
    created_at   {{ts}} NOT NULL,
    updated_at   {{ts}} NOT NULL,
    activated_by BIGINT REFERENCES users(id),
    activated_at {{ts}},
    retired_at   {{ts}}
);
CREATE UNIQUE INDEX level_rules_one_active ON level_rules(status) WHERE status = 'active';

-- Version 1 is the tiering Kehu shipped with (customer.LevelFor before this
-- issue): current AUM of ¥50k, ¥500k, ¥2m and ¥6m, plus a 3-month average
-- AUM path so a customer is not downgraded by one month-end dip. Corporate
-- customers are not tiered by the retail rule.
INSERT INTO level_rules (version, status, rule, note, created_at, updated_at, activated_at) VALUES (1, 'active',
'{"include_corporate":false,"contribution":{"current_deposit_bp":150,"time_deposit_bp":60,"wealth_bp":50,"fund_bp":80,"insurance_bp":150,"card_interchange_bp":45},"tiers":[{"level":"gold","any":[{"min_aum":5000000},{"min_aum_avg3m":5000000}]},{"level":"platinum","any":[{"min_aum":50000000},{"min_aum_avg3m":50000000}]},{"level":"diamond","any":[{"min_aum":200000000},{"min_aum_avg3m":200000000}]},{"level":"private","any":[{"min_aum":600000000},{"min_aum_avg3m":600000000}]}]}',
'初始规则 / initial rule', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);

-- customer_levels is each customer's latest evaluation: the level, the rule
-- version that gave it, the metrics it was computed from (with the bases of
-- the contribution, so a draft with other rates can be previewed without
-- rescanning transactions) and the reasons as JSON.
CREATE TABLE customer_levels (
    customer_id      BIGINT PRIMARY KEY REFERENCES customers(id),
    level            TEXT NOT NULL,
    rule_version     INTEGER NOT NULL,
    aum              BIGINT NOT NULL,
    aum_avg3m        BIGINT NOT NULL,
    transactions_90d BIGINT NOT NULL,
    contribution     BIGINT NOT NULL,
    current_deposit  BIGINT NOT NULL,
    time_deposit     BIGINT NOT NULL,
    wealth           BIGINT NOT NULL,
    fund             BIGINT NOT NULL,
    insurance        BIGINT NOT NULL,
    card_spend_90d   BIGINT NOT NULL,
    reasons          TEXT NOT NULL,
    computed_at      {{ts}} NOT NULL
);

-- level_changes is the append-only history of level changes (the marketing
-- journeys of a later issue start from it).
CREATE TABLE level_changes (
    id           {{pk}},
    customer_id  BIGINT NOT NULL REFERENCES customers(id),
    from_level   TEXT NOT NULL,
    to_level     TEXT NOT NULL,
    rule_version INTEGER NOT NULL,
    trigger      TEXT NOT NULL,
    changed_at   {{ts}} NOT NULL
);
CREATE INDEX level_changes_customer ON level_changes(customer_id, id);

-- level_runs records batch recomputes. A run is alive while its heartbeat is
-- recent; the service refuses a second live run.
CREATE TABLE level_runs (
    id           {{pk}},
    trigger      TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('running','done','failed')),
    rule_version INTEGER NOT NULL,
    started_by   BIGINT REFERENCES users(id),
    started_at   {{ts}} NOT NULL,
    heartbeat_at {{ts}} NOT NULL,
    finished_at  {{ts}},
    customers    BIGINT NOT NULL DEFAULT 0,
    changed      BIGINT NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT ''
);

-- dictionary_entries holds the edited versions of data-dictionary metadata.
-- Version 0 of every entry is the catalogue shipped in code
-- (internal/governance); the newest stored version wins. The sensitivity class
-- is not here: it is the vault's, and not editable.
CREATE TABLE dictionary_entries (
    table_name    TEXT NOT NULL,
    column_name   TEXT NOT NULL,
    version       INTEGER NOT NULL,
    definition_zh TEXT NOT NULL,
    definition_en TEXT NOT NULL,
    source_system TEXT NOT NULL,
    owner         TEXT NOT NULL,
    quality_rule  TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    edited_by     BIGINT REFERENCES users(id),
    edited_at     {{ts}} NOT NULL,
    PRIMARY KEY (table_name, column_name, version)
);

-- quality_runs and quality_results: each measurement writes one row per
-- (home organisation, field) with counts only, plus at most a few masked
-- examples of invalid values. Pages sum the rows of a subtree.
CREATE TABLE quality_runs (
    id           {{pk}},
    trigger      TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('running','done','failed')),
    started_by   BIGINT REFERENCES users(id),
    started_at   {{ts}} NOT NULL,
    heartbeat_at {{ts}} NOT NULL,
    finished_at  {{ts}},
    rows_scanned BIGINT NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT ''
);

CREATE TABLE quality_results (
    run_id      BIGINT NOT NULL REFERENCES quality_runs(id),
    org_id      BIGINT NOT NULL,
    table_name  TEXT NOT NULL,
    column_name TEXT NOT NULL,
    applicable  BIGINT NOT NULL,
    filled      BIGINT NOT NULL,
    valid       BIGINT NOT NULL,
    examples    TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (run_id, org_id, table_name, column_name)
);

-- nightly_runs claims one job for one Shanghai calendar day, so two servers
-- on one database do not both run the nightly work.
CREATE TABLE nightly_runs (
    run_date    {{date}} NOT NULL,
    job         TEXT NOT NULL,
    started_at  {{ts}} NOT NULL,
    finished_at {{ts}},
    status      TEXT NOT NULL CHECK (status IN ('running','done','failed')),
    error       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_date, job)
);
