-- Campaigns (issue 5, item 4; docs/CAMPAIGNS.md). A campaign names its
-- audience (a saved segment), the offered product, the channel and the
-- template (its version pinned at approval), the schedule, the control
-- group and the economics; the maker-checker trail lives in its columns and
-- the audit log. Each launch is a numbered run with a checkpoint (the last
-- customer id decided) moved in the same transaction as the run's members,
-- contacts and messages, so a killed launch resumes exactly there.

CREATE TABLE campaigns (
    id                   {{pk}},
    name                 TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    segment_id           BIGINT NOT NULL REFERENCES segments(id),
    product_id           BIGINT REFERENCES products(id),
    channel              TEXT NOT NULL CHECK (channel IN ('sms','app_push','email','wechat','rm_task','call_list')),
    template_id          BIGINT REFERENCES message_templates(id),
    template_version     INTEGER NOT NULL DEFAULT 0,
    purpose              TEXT NOT NULL CHECK (purpose IN ('marketing','service')),
    schedule_kind        TEXT NOT NULL CHECK (schedule_kind IN ('once','daily','weekly','monthly')),
    start_at             {{ts}},
    end_at               {{ts}},
    control_pct          INTEGER NOT NULL CHECK (control_pct BETWEEN 0 AND 50),
    seed                 BIGINT NOT NULL,
    throttle_per_minute  INTEGER NOT NULL DEFAULT 0,
    conversion_days      INTEGER NOT NULL,
    cost_per_message     BIGINT NOT NULL DEFAULT 0,
    value_per_conversion BIGINT NOT NULL DEFAULT 0,
    status               TEXT NOT NULL CHECK (status IN ('draft','submitted','approved','scheduled','running','paused','completed','cancelled')),
    reject_reason        TEXT NOT NULL DEFAULT '',
    created_by           BIGINT NOT NULL REFERENCES users(id),
    updated_by           BIGINT NOT NULL REFERENCES users(id),
    submitted_by         BIGINT REFERENCES users(id),
    submitted_at         {{ts}},
    approved_by          BIGINT REFERENCES users(id),
    approved_at          {{ts}},
    launched_by          BIGINT REFERENCES users(id),
    launched_at          {{ts}},
    created_at           {{ts}} NOT NULL,
    updated_at           {{ts}} NOT NULL
);
CREATE INDEX campaigns_status ON campaigns(status, id);

-- One row per run. status: pending (due at due_at, or paused with a
-- checkpoint) → running (claimed by lease_owner, alive while heartbeat_at is
-- fresh) → done, cancelled or failed. The counters are the run's so far.
CREATE TABLE campaign_runs (
    campaign_id  BIGINT NOT NULL REFERENCES campaigns(id),
    run          INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending','running','done','cancelled','failed')),
    due_at       {{ts}} NOT NULL,
    started_at   {{ts}},
    finished_at  {{ts}},
    heartbeat_at {{ts}},
    lease_owner  TEXT NOT NULL DEFAULT '',
    checkpoint   BIGINT NOT NULL DEFAULT 0,
    audience     BIGINT NOT NULL DEFAULT 0,
    control      BIGINT NOT NULL DEFAULT 0,
    queued       BIGINT NOT NULL DEFAULT 0,
    deferred     BIGINT NOT NULL DEFAULT 0,
    suppressed   BIGINT NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (campaign_id, run)
);
-- The runner's question: which pending run is due, which running one is stale.
CREATE INDEX campaign_runs_due ON campaign_runs(status, due_at);

-- Every audience customer of every run: the group (control held out or
-- treatment), what happened (held_out, queued, deferred, suppressed with the
-- policy's reason, task) and the message or task. The primary key makes a
-- re-decided batch impossible to record twice. task_id names a row of the
-- task module (no foreign key: that module may be absent).
CREATE TABLE campaign_members (
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id),
    run         INTEGER NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    grp         TEXT NOT NULL CHECK (grp IN ('control','treatment')),
    outcome     TEXT NOT NULL CHECK (outcome IN ('held_out','queued','deferred','suppressed','task')),
    reason      TEXT NOT NULL DEFAULT '',
    message_id  BIGINT REFERENCES outbox_messages(id),
    task_id     BIGINT,
    PRIMARY KEY (campaign_id, run, customer_id)
);
