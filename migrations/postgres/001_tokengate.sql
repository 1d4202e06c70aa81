-- tokengate PostgreSQL schema, version 1 (tokengate/postgres).
--
-- Run once per database, before the app starts:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f node_modules/tokengate/migrations/postgres/001_tokengate.sql
-- or hand this file to your migration tool (node-pg-migrate, Flyway, Knex, ...). It is safe to
-- run twice. Tables go in the current schema (set search_path to use another one).
--
-- Nothing secret is stored in plain text: clients keep a SHA-256 hash of their secret
-- (hashClientSecret), users a salted scrypt hash of their password (hashPassword), and tokens
-- are stored under the SHA-256 of the token (hashToken); the raw token is never seen here.
-- Times are Unix seconds (bigint), the unit TokenRecord uses, compared with the app's clock.
--
-- Expired rows are removed by PostgresTokenStore.cleanup(), or by this query on a schedule
-- (pg_cron, a Kubernetes CronJob running psql, ...):
--   DELETE FROM tokengate_tokens      WHERE expires_at <= extract(epoch FROM now());
--   DELETE FROM tokengate_revocations WHERE until      <= extract(epoch FROM now());
--   DELETE FROM tokengate_families    WHERE expires_at <= extract(epoch FROM now());

BEGIN;

-- Registered OAuth clients (ClientStore). Fields without a column of their own (for example
-- resourceServer) are kept in metadata and returned on the Client object as they are.
CREATE TABLE IF NOT EXISTS tokengate_clients (
  id                      text        PRIMARY KEY,
  secret_hash             text        CHECK (secret_hash LIKE 'sha256:%'),  -- NULL: public client
  grants                  text[]      NOT NULL
                          CHECK (grants <@ ARRAY['authorization_code', 'client_credentials', 'password', 'refresh_token']),
  scopes                  text[]      NOT NULL,
  default_scopes          text[],
  redirect_uris           text[],
  access_token_lifetime   integer     CHECK (access_token_lifetime > 0),
  refresh_token_lifetime  integer     CHECK (refresh_token_lifetime > 0),
  metadata                jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now()
);

-- Users for the password grant (UserStore). profile holds every other field of the User
-- object the app wants on req.auth / the authorize hooks.
CREATE TABLE IF NOT EXISTS tokengate_users (
  id             text        PRIMARY KEY,
  username       text        NOT NULL UNIQUE,
  password_hash  text        NOT NULL CHECK (password_hash LIKE 'scrypt$%'),  -- hashPassword()
  profile        jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(profile) = 'object'),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per grant ("family"): every token saved into a family first locks this row, and a
-- family revocation marks it, so a refresh racing reuse detection can never leave a live
-- token behind. expires_at is the latest expiry of any member or revocation.
CREATE TABLE IF NOT EXISTS tokengate_families (
  id          text    PRIMARY KEY,
  expires_at  bigint  NOT NULL,
  revoked     boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS tokengate_families_expires_at ON tokengate_families (expires_at);

-- Refresh tokens, authorization codes and opaque access tokens (TokenStore), under the
-- SHA-256 of the token. extra keeps TokenRecord fields added after this schema.
CREATE TABLE IF NOT EXISTS tokengate_tokens (
  id                     text     PRIMARY KEY,
  kind                   text     NOT NULL CHECK (kind IN ('access_token', 'refresh_token', 'authorization_code')),
  family_id              text     NOT NULL,
  client_id              text     NOT NULL,
  sub                    text     NOT NULL,
  user_id                text,
  scope                  text[]   NOT NULL,
  issued_at              bigint   NOT NULL,
  expires_at             bigint   NOT NULL,
  consumed_at            bigint,
  redirect_uri           text,
  code_challenge         text,
  code_challenge_method  text     CHECK (code_challenge_method IN ('S256', 'plain')),
  extra                  jsonb    NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(extra) = 'object')
);
CREATE INDEX IF NOT EXISTS tokengate_tokens_family_id ON tokengate_tokens (family_id);
CREATE INDEX IF NOT EXISTS tokengate_tokens_expires_at ON tokengate_tokens (expires_at);

-- Revoked ids (token ids, JWT jti, family ids) until the last JWT that may carry them expires.
CREATE TABLE IF NOT EXISTS tokengate_revocations (
  id     text   PRIMARY KEY,
  until  bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS tokengate_revocations_until ON tokengate_revocations (until);

COMMIT;
