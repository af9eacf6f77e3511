-- Message templates and the outbox (issue 5, item 4: delivery). Templates are
-- versioned: a saved version never changes and a message names the version it
-- was rendered from. The outbox holds every message a campaign or journey
-- queued until a gateway took it; addresses (mobile, e-mail) are not stored
-- here but read from the sealed customer record at send time.

CREATE TABLE message_templates (
    id          {{pk}},
    name        TEXT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('sms','push','wechat','email')),
    purpose     TEXT NOT NULL CHECK (purpose IN ('marketing','service')),
    version     INTEGER NOT NULL,
    created_by  BIGINT NOT NULL REFERENCES users(id),
    updated_by  BIGINT NOT NULL REFERENCES users(id),
    created_at  {{ts}} NOT NULL,
    updated_at  {{ts}} NOT NULL
);
CREATE INDEX message_templates_channel ON message_templates(channel, id);

-- content is the JSON of msgtemplate.Content (subject, body, WeChat fields).
CREATE TABLE message_template_versions (
    template_id BIGINT NOT NULL REFERENCES message_templates(id),
    version     INTEGER NOT NULL,
    name        TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    content     TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_by  BIGINT NOT NULL REFERENCES users(id),
    created_at  {{ts}} NOT NULL,
    PRIMARY KEY (template_id, version)
);

-- One row per message. dedup_key is unique: a campaign launched twice, or
-- resumed after a crash, inserts with ON CONFLICT DO NOTHING and queues
-- nothing twice. Either content (rendered text, JSON) or template_id and
-- template_version with data (JSON of msgtemplate.Data) say what to send.
-- status: queued → sending (claimed by a dispatcher until lease_until) →
-- sent → delivered, or failed (last_error says why). attempts counts the
-- claims that reached a gateway. next_attempt_at is when a queued message is
-- due (backoff after a temporary failure). provider_id is the gateway's id of
-- the message, the key of its delivery receipts.
CREATE TABLE outbox_messages (
    id               {{pk}},
    source_kind      TEXT NOT NULL,
    source_id        BIGINT NOT NULL DEFAULT 0,
    customer_id      BIGINT NOT NULL REFERENCES customers(id),
    channel          TEXT NOT NULL CHECK (channel IN ('sms','push','wechat','email')),
    dedup_key        TEXT NOT NULL,
    template_id      BIGINT,
    template_version INTEGER NOT NULL DEFAULT 0,
    data             TEXT NOT NULL DEFAULT '',
    content          TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('queued','sending','sent','delivered','failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  {{ts}} NOT NULL,
    lease_owner      TEXT NOT NULL DEFAULT '',
    lease_until      {{ts}},
    last_error       TEXT NOT NULL DEFAULT '',
    provider_id      TEXT NOT NULL DEFAULT '',
    created_at       {{ts}} NOT NULL,
    updated_at       {{ts}} NOT NULL,
    sent_at          {{ts}},
    delivered_at     {{ts}},
    failed_at        {{ts}},
    opened_at        {{ts}},
    clicked_at       {{ts}},
    opens            INTEGER NOT NULL DEFAULT 0,
    clicks           INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX outbox_messages_dedup ON outbox_messages(dedup_key);
-- The dispatcher's due queue per channel; sending rows are found again by
-- their lease when a dispatcher died holding them.
CREATE INDEX outbox_messages_due ON outbox_messages(channel, status, next_attempt_at);
CREATE INDEX outbox_messages_source ON outbox_messages(source_kind, source_id);
-- Receipts name the provider's id; only sent messages have one.
CREATE INDEX outbox_messages_provider ON outbox_messages(channel, provider_id) WHERE provider_id <> '';

-- Delivery receipts and open/click callbacks, once each: a provider sending
-- the same receipt again (its own retry) changes nothing.
CREATE TABLE outbox_receipts (
    id          {{pk}},
    channel     TEXT NOT NULL,
    receipt_id  TEXT NOT NULL,
    message_id  BIGINT NOT NULL REFERENCES outbox_messages(id),
    event       TEXT NOT NULL CHECK (event IN ('delivered','failed','opened','clicked')),
    at          {{ts}} NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    received_at {{ts}} NOT NULL,
    UNIQUE (channel, receipt_id)
);
CREATE INDEX outbox_receipts_message ON outbox_receipts(message_id);
