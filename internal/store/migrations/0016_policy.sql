-- Suitability and the contact policy (issue 5, items 2 and 3;
-- docs/POLICY.md). The suitability rule reads customers.risk_level,
-- customers.risk_assessed_at and products.risk_level; it stores nothing of
-- its own beyond the assessment validity in the policy settings.

-- The contact-policy settings, one row per version: the newest is in force.
-- A change inserts a version (with its audit record), so a campaign's
-- decisions can name the version they were taken under.
CREATE TABLE contact_policy_versions (
    version    BIGINT PRIMARY KEY,
    settings   TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    created_by BIGINT REFERENCES users(id)
);

-- Every contact a campaign, journey or employee made or queued through the
-- contact policy; the frequency caps count these rows. Written by
-- policy.Service.RecordContacts in the caller's transaction (a campaign
-- records the contacts it queues together with the messages).
CREATE TABLE contact_log (
    id           {{pk}},
    customer_id  BIGINT NOT NULL REFERENCES customers(id),
    channel      TEXT NOT NULL CHECK (channel IN ('sms','app_push','email','wechat','phone','rm_visit')),
    purpose      TEXT NOT NULL CHECK (purpose IN ('marketing','service')),
    source_kind  TEXT NOT NULL CHECK (source_kind IN ('campaign','journey','manual')),
    source_id    BIGINT NOT NULL DEFAULT 0,
    product_id   BIGINT REFERENCES products(id),
    contacted_at {{ts}} NOT NULL
);
-- The caps read a customer's recent contacts: customer first, then time.
CREATE INDEX contact_log_customer ON contact_log(customer_id, contacted_at);
CREATE INDEX contact_log_source ON contact_log(source_kind, source_id);

-- Suppressions counted per source (a campaign or journey) and reason code,
-- added to by every run, so results can say "suppressed by reason".
CREATE TABLE contact_suppressions (
    source_kind TEXT NOT NULL CHECK (source_kind IN ('campaign','journey','manual')),
    source_id   BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    count       BIGINT NOT NULL,
    updated_at  {{ts}} NOT NULL,
    PRIMARY KEY (source_kind, source_id, reason)
);
