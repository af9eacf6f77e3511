-- Access control completion (issue 3, items 1 and 2): secondary relationship
-- managers and the history of owner transfers; requests for temporary access
-- outside one's data scope, the grants that approvals and break-glass
-- openings create, and the compliance review of break-glass use. Grants are
-- checked against the clock at query time (expires_at > now), so nothing has
-- to run for access to lapse.

-- A customer's secondary RMs: their "own" scope includes the customer.
CREATE TABLE customer_secondary_rms (
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    user_id     BIGINT NOT NULL REFERENCES users(id),
    added_by    BIGINT NOT NULL REFERENCES users(id),
    added_at    {{ts}} NOT NULL,
    PRIMARY KEY (customer_id, user_id)
);
CREATE INDEX customer_secondary_rms_user ON customer_secondary_rms(user_id, customer_id);

-- Every change of primary RM, with who did it and why.
CREATE TABLE customer_transfers (
    id             {{pk}},
    customer_id    BIGINT NOT NULL REFERENCES customers(id),
    from_owner_id  BIGINT REFERENCES users(id),
    to_owner_id    BIGINT NOT NULL REFERENCES users(id),
    reason         TEXT NOT NULL,
    transferred_by BIGINT NOT NULL REFERENCES users(id),
    transferred_at {{ts}} NOT NULL
);
CREATE INDEX customer_transfers_customer ON customer_transfers(customer_id, id);

-- A request for temporary access. customer_id has no foreign key on purpose:
-- a request for an id that does not exist must be filed like any other, so
-- requesting cannot be used to probe which customers exist.
CREATE TABLE access_requests (
    id               {{pk}},
    requester_id     BIGINT NOT NULL REFERENCES users(id),
    customer_id      BIGINT NOT NULL,
    scope            TEXT NOT NULL CHECK (scope IN ('customer','c2_fields')),
    reason           TEXT NOT NULL,
    hours            INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending','approved','denied','revoked')),
    created_at       {{ts}} NOT NULL,
    decided_by       BIGINT REFERENCES users(id),
    decided_at       {{ts}},
    decision_comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX access_requests_status ON access_requests(status, id);
CREATE INDEX access_requests_requester ON access_requests(requester_id, id);

-- Access actually held: from an approved request (kind 'request') or a
-- break-glass opening (kind 'break_glass', reviewed afterwards by compliance).
CREATE TABLE access_grants (
    id             {{pk}},
    user_id        BIGINT NOT NULL REFERENCES users(id),
    customer_id    BIGINT NOT NULL REFERENCES customers(id),
    scope          TEXT NOT NULL CHECK (scope IN ('customer','c2_fields')),
    kind           TEXT NOT NULL CHECK (kind IN ('request','break_glass')),
    request_id     BIGINT REFERENCES access_requests(id),
    reason         TEXT NOT NULL,
    ticket         TEXT NOT NULL DEFAULT '',
    granted_by     BIGINT REFERENCES users(id),
    created_at     {{ts}} NOT NULL,
    expires_at     {{ts}} NOT NULL,
    revoked_at     {{ts}},
    revoked_by     BIGINT REFERENCES users(id),
    reviewed_by    BIGINT REFERENCES users(id),
    reviewed_at    {{ts}},
    review_comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX access_grants_user ON access_grants(user_id, customer_id, expires_at);
CREATE INDEX access_grants_review ON access_grants(kind, reviewed_at, id);
