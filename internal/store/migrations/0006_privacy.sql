-- Data-subject rights under PIPL and bulk-export control (issue 3, items 6
-- and 7; docs/PRIVACY.md).

-- A data-subject request: access/export, rectify, withdraw consent, erase.
-- due_on is the statutory deadline (15 working days after receipt, computed
-- by privacy.Calendar); corrections of a rectification are not stored here
-- (they would be personal data in clear): they arrive with the completion.
CREATE TABLE privacy_requests (
    id           {{pk}},
    kind         TEXT NOT NULL CHECK (kind IN ('access','rectify','withdraw_consent','erase')),
    customer_id  BIGINT NOT NULL REFERENCES customers(id),
    received_at  {{ts}} NOT NULL,
    due_on       {{date}} NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('received','in_progress','completed','rejected')),
    handler_id   BIGINT REFERENCES users(id),
    notes        TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    created_by   BIGINT NOT NULL REFERENCES users(id),
    closed_at    {{ts}},
    updated_at   {{ts}} NOT NULL
);
CREATE INDEX privacy_requests_status ON privacy_requests(status, due_on, id);
CREATE INDEX privacy_requests_customer ON privacy_requests(customer_id, id);

-- Marketing consent per customer and channel, current state only (the
-- history is in the audit trail). No row means no consent: marketing under
-- PIPL needs an opt-in.
CREATE TABLE customer_consents (
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    channel     TEXT NOT NULL CHECK (channel IN ('sms','app_push','email','wechat','phone','rm_visit')),
    granted     BOOLEAN NOT NULL,
    changed_at  {{ts}} NOT NULL,
    source      TEXT NOT NULL,
    changed_by  BIGINT REFERENCES users(id),
    PRIMARY KEY (customer_id, channel)
);
CREATE INDEX customer_consents_channel ON customer_consents(channel, granted, customer_id);

-- Erasure: the customer row stays (accounts and transactions reference it)
-- with its personal fields anonymised; what the bank must keep is flagged
-- with why and until when (AML law: at least five years after the business
-- relationship ends).
ALTER TABLE customers ADD COLUMN erased_at {{ts}};
ALTER TABLE customers ADD COLUMN retained_for TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN retained_until {{date}};
ALTER TABLE accounts ADD COLUMN retained_for TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN retained_until {{date}};
ALTER TABLE transactions ADD COLUMN retained_for TEXT NOT NULL DEFAULT '';
ALTER TABLE transactions ADD COLUMN retained_until {{date}};
ALTER TABLE relationships ADD COLUMN retained_for TEXT NOT NULL DEFAULT '';
ALTER TABLE relationships ADD COLUMN retained_until {{date}};

-- A user's approval to export or list more customers than the bulk
-- threshold in one request; used once, within its validity.
CREATE TABLE bulk_export_approvals (
    id            {{pk}},
    requester_id  BIGINT NOT NULL REFERENCES users(id),
    reason        TEXT NOT NULL,
    max_customers INTEGER NOT NULL CHECK (max_customers > 0),
    status        TEXT NOT NULL CHECK (status IN ('pending','approved','denied','used')),
    created_at    {{ts}} NOT NULL,
    decided_by    BIGINT REFERENCES users(id),
    decided_at    {{ts}},
    comment       TEXT NOT NULL DEFAULT '',
    expires_at    {{ts}},
    used_at       {{ts}}
);
CREATE INDEX bulk_export_approvals_requester ON bulk_export_approvals(requester_id, status, id);

-- Alerts for compliance: bulk exports refused for want of approval and
-- approved ones used.
CREATE TABLE compliance_alerts (
    id         {{pk}},
    kind       TEXT NOT NULL CHECK (kind IN ('bulk_export_refused','bulk_export_approved')),
    user_id    BIGINT NOT NULL REFERENCES users(id),
    customers  BIGINT NOT NULL,
    threshold  BIGINT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL
);
CREATE INDEX compliance_alerts_created ON compliance_alerts(id);
