-- Customer 360 (issue 4, items 4–6): interactions naming several products,
-- the tag catalogue (labels in both languages, emotion polarity and expiry,
-- computed-tag rules), contact preferences, and the indexes the 360 view and
-- the tag filter read through.

-- An interaction may pitch several products; interactions.product_id (one
-- product) stays for rows written before this table existed.
CREATE TABLE interaction_products (
    interaction_id BIGINT NOT NULL REFERENCES interactions(id),
    product_id     BIGINT NOT NULL REFERENCES products(id),
    PRIMARY KEY (interaction_id, product_id)
);
CREATE INDEX interaction_products_product ON interaction_products(product_id);
-- Newest-first keyset pages of one customer's interactions.
CREATE INDEX interactions_customer_id ON interactions(customer_id, id);

-- The catalogue. name is the Chinese label (unique, as before); code is the
-- stable key of the built-in tags (computed rules, the default emotions),
-- '' for tags staff created. polarity is for emotion tags; rule is the
-- computed tag's rule as JSON ({"rule": "aum_at_least", ...}).
ALTER TABLE tags ADD COLUMN code TEXT NOT NULL DEFAULT '';
ALTER TABLE tags ADD COLUMN label_en TEXT NOT NULL DEFAULT '';
ALTER TABLE tags ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE tags ADD COLUMN polarity TEXT NOT NULL DEFAULT '' CHECK (polarity IN ('', 'positive', 'negative'));
ALTER TABLE tags ADD COLUMN default_expiry_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tags ADD COLUMN rule TEXT NOT NULL DEFAULT '';
ALTER TABLE tags ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE tags ADD COLUMN created_at {{ts}};
ALTER TABLE tags ADD COLUMN updated_at {{ts}};
CREATE INDEX tags_code ON tags(code);

-- The tag filter of the customer list: customers carrying a tag, unexpired,
-- without touching the table.
CREATE INDEX customer_tags_tag_customer ON customer_tags(tag_id, customer_id, expires_at);

-- How and when a customer prefers to be contacted (what the RM was told;
-- consent to marketing per channel stays in customer_consents).
CREATE TABLE customer_preferences (
    customer_id       BIGINT PRIMARY KEY REFERENCES customers(id),
    preferred_channel TEXT NOT NULL DEFAULT '',
    contact_time      TEXT NOT NULL DEFAULT '',
    note              TEXT NOT NULL DEFAULT '',
    updated_by        BIGINT REFERENCES users(id),
    updated_at        {{ts}} NOT NULL
);
