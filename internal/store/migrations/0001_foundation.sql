-- Foundation schema: organisations, users, sessions, customers, products,
-- accounts, holdings, transactions, relationships, channel events,
-- interactions and tags. Written once for both engines; the tokens {{pk}},
-- {{ts}}, {{date}}, {{bytes}}, {{json}} and {{collate_c}} are replaced by the
-- dialect.
-- Money columns are BIGINT fen; times are UTC.

CREATE TABLE orgs (
    id          {{pk}},
    parent_id   BIGINT REFERENCES orgs(id),
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    name_en     TEXT NOT NULL DEFAULT '',
    level       TEXT NOT NULL CHECK (level IN ('head_office','province_branch','city_branch','sub_branch')),
    region_code TEXT NOT NULL DEFAULT '',
    city        TEXT NOT NULL DEFAULT '',
    path        TEXT NOT NULL DEFAULT '',
    created_at  {{ts}} NOT NULL
);
CREATE INDEX orgs_parent ON orgs(parent_id);
CREATE INDEX orgs_path ON orgs(path{{collate_c}});

CREATE TABLE users (
    id            {{pk}},
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    org_id        BIGINT NOT NULL REFERENCES orgs(id),
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    {{ts}} NOT NULL,
    updated_at    {{ts}} NOT NULL
);
CREATE INDEX users_org ON users(org_id);

CREATE TABLE sessions (
    id           {{pk}},
    user_id      BIGINT NOT NULL REFERENCES users(id),
    token_hash   {{bytes}} NOT NULL UNIQUE,
    csrf_token   TEXT NOT NULL,
    created_at   {{ts}} NOT NULL,
    last_seen_at {{ts}} NOT NULL,
    expires_at   {{ts}} NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE customers (
    id                 {{pk}},
    type               TEXT NOT NULL CHECK (type IN ('individual','corporate')),
    name               TEXT NOT NULL,
    id_type            TEXT NOT NULL,
    id_number          TEXT NOT NULL,
    mobile             TEXT NOT NULL DEFAULT '',
    email              TEXT NOT NULL DEFAULT '',
    gender             TEXT NOT NULL DEFAULT '',
    birth_date         {{date}},
    address            TEXT NOT NULL DEFAULT '',
    region_code        TEXT NOT NULL DEFAULT '',
    org_id             BIGINT NOT NULL REFERENCES orgs(id),
    owner_id           BIGINT REFERENCES users(id),
    level              TEXT NOT NULL DEFAULT 'standard',
    aum                BIGINT NOT NULL DEFAULT 0,
    risk_level         INTEGER NOT NULL DEFAULT 0,
    risk_assessed_at   {{ts}},
    industry           TEXT NOT NULL DEFAULT '',
    registered_capital BIGINT NOT NULL DEFAULT 0,
    status             TEXT NOT NULL DEFAULT 'active',
    created_at         {{ts}} NOT NULL,
    updated_at         {{ts}} NOT NULL
);
CREATE UNIQUE INDEX customers_identity ON customers(id_type, id_number);
CREATE INDEX customers_name ON customers(name{{collate_c}});
CREATE INDEX customers_mobile ON customers(mobile);
CREATE INDEX customers_org ON customers(org_id, id);
CREATE INDEX customers_owner ON customers(owner_id, id);

CREATE TABLE products (
    id         {{pk}},
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    name_en    TEXT NOT NULL DEFAULT '',
    type       TEXT NOT NULL CHECK (type IN ('current_deposit','time_deposit','wealth','fund','insurance','loan','credit_card')),
    -- risk_level R1..R5 for wealth, funds and insurance; 0 where not rated.
    risk_level INTEGER NOT NULL DEFAULT 0 CHECK (risk_level BETWEEN 0 AND 5),
    term_days  INTEGER NOT NULL DEFAULT 0,
    -- rate in basis points (annual interest, expected yield or loan rate).
    rate_bp    INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL DEFAULT 'on_sale'
);

CREATE TABLE accounts (
    id           {{pk}},
    customer_id  BIGINT NOT NULL REFERENCES customers(id),
    product_id   BIGINT NOT NULL REFERENCES products(id),
    account_no   TEXT NOT NULL UNIQUE,
    currency     TEXT NOT NULL DEFAULT 'CNY',
    balance      BIGINT NOT NULL DEFAULT 0,
    credit_limit BIGINT NOT NULL DEFAULT 0,
    status       TEXT NOT NULL DEFAULT 'active',
    org_id       BIGINT NOT NULL REFERENCES orgs(id),
    opened_on    {{date}} NOT NULL,
    matures_on   {{date}}
);
CREATE INDEX accounts_customer ON accounts(customer_id);

CREATE TABLE holdings (
    id          {{pk}},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    product_id  BIGINT NOT NULL REFERENCES products(id),
    -- market value and cost in fen
    amount      BIGINT NOT NULL,
    cost        BIGINT NOT NULL,
    acquired_on {{date}} NOT NULL,
    matures_on  {{date}}
);
CREATE INDEX holdings_customer ON holdings(customer_id);

CREATE TABLE transactions (
    id            {{pk}},
    account_id    BIGINT NOT NULL REFERENCES accounts(id),
    customer_id   BIGINT NOT NULL REFERENCES customers(id),
    occurred_at   {{ts}} NOT NULL,
    -- signed: inflow positive, outflow negative, in fen
    amount        BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    channel       TEXT NOT NULL,
    counterparty  TEXT NOT NULL DEFAULT '',
    description   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX transactions_customer ON transactions(customer_id, occurred_at);
CREATE INDEX transactions_account ON transactions(account_id, occurred_at);

CREATE TABLE relationships (
    id               {{pk}},
    from_customer_id BIGINT NOT NULL REFERENCES customers(id),
    to_customer_id   BIGINT NOT NULL REFERENCES customers(id),
    kind             TEXT NOT NULL CHECK (kind IN ('spouse','parent','child','sibling','legal_representative','shareholder','guarantor','employer')),
    -- shareholding in basis points of the company, for kind shareholder
    share_bp         INTEGER NOT NULL DEFAULT 0,
    created_at       {{ts}} NOT NULL,
    UNIQUE (from_customer_id, to_customer_id, kind)
);
CREATE INDEX relationships_to ON relationships(to_customer_id);

CREATE TABLE channel_events (
    id          {{pk}},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    occurred_at {{ts}} NOT NULL,
    channel     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    product_id  BIGINT REFERENCES products(id),
    detail      {{json}}
);
CREATE INDEX channel_events_customer ON channel_events(customer_id, occurred_at);

CREATE TABLE interactions (
    id          {{pk}},
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    user_id     BIGINT NOT NULL REFERENCES users(id),
    occurred_at {{ts}} NOT NULL,
    channel     TEXT NOT NULL,
    purpose     TEXT NOT NULL DEFAULT '',
    product_id  BIGINT REFERENCES products(id),
    response    TEXT NOT NULL DEFAULT '' CHECK (response IN ('','interested','declined','bought','follow_up')),
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX interactions_customer ON interactions(customer_id, occurred_at);

CREATE TABLE tags (
    id    {{pk}},
    name  TEXT NOT NULL UNIQUE,
    kind  TEXT NOT NULL CHECK (kind IN ('manual','emotion','computed')),
    color TEXT NOT NULL DEFAULT ''
);

CREATE TABLE customer_tags (
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    tag_id      BIGINT NOT NULL REFERENCES tags(id),
    created_by  BIGINT REFERENCES users(id),
    created_at  {{ts}} NOT NULL,
    expires_at  {{ts}},
    reason      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (customer_id, tag_id)
);
CREATE INDEX customer_tags_tag ON customer_tags(tag_id);
