-- Login hardening (issue 3, item 7): per-account lockout and password age,
-- TOTP second factor, password history, pending second-factor sign-ins,
-- API tokens, and a restriction on sessions that must first change the
-- password or enrol TOTP. Secrets are stored only as hashes, except the
-- TOTP seed, which the server must be able to read back (sealed when a
-- field sealer is configured, see docs/SECURITY.md).

-- One row per user that ever failed a login, changed a password or enrolled
-- TOTP; created lazily so existing users need no backfill.
CREATE TABLE auth_state (
    user_id             BIGINT PRIMARY KEY REFERENCES users(id),
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    lockouts            INTEGER NOT NULL DEFAULT 0,
    locked_until        {{ts}},
    password_changed_at {{ts}},
    totp_secret         TEXT NOT NULL DEFAULT '',
    totp_enabled        BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step      BIGINT NOT NULL DEFAULT 0
);

-- Earlier password hashes (argon2id), newest last, for the reuse rule.
CREATE TABLE password_history (
    id         {{pk}},
    user_id    BIGINT NOT NULL REFERENCES users(id),
    hash       TEXT NOT NULL,
    created_at {{ts}} NOT NULL
);
CREATE INDEX password_history_user ON password_history(user_id, id);

-- A password that was right, waiting for the TOTP code (the UI's second
-- form). Only the SHA-256 of the challenge token is stored.
CREATE TABLE login_challenges (
    id         {{pk}},
    user_id    BIGINT NOT NULL REFERENCES users(id),
    token_hash {{bytes}} NOT NULL UNIQUE,
    expires_at {{ts}} NOT NULL
);
CREATE INDEX login_challenges_user ON login_challenges(user_id);

-- Personal access tokens for integrations: shown once, stored as SHA-256.
CREATE TABLE api_tokens (
    id           {{pk}},
    user_id      BIGINT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    token_hash   {{bytes}} NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_by   BIGINT NOT NULL REFERENCES users(id),
    created_at   {{ts}} NOT NULL,
    expires_at   {{ts}} NOT NULL,
    last_used_at {{ts}}
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- '' for a full session; 'password_change' or 'totp_enrolment' while the
-- user must do that before anything else.
ALTER TABLE sessions ADD COLUMN restriction TEXT NOT NULL DEFAULT '';
