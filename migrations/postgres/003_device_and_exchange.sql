-- tokengate PostgreSQL schema, migration 003: the device authorization grant (RFC 8628) and
-- token exchange (RFC 8693).
--
-- Run after 001 (and 002), before starting a version that uses them:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f node_modules/tokengate/migrations/postgres/003_grant_types.sql
-- Safe to run twice. It widens the check on tokengate_clients.grants, so that a client may
-- list the two grant types, and adds the table of pending device authorizations
-- (postgresDeviceStore).

BEGIN;

ALTER TABLE tokengate_clients DROP CONSTRAINT IF EXISTS tokengate_clients_grants_check;
ALTER TABLE tokengate_clients ADD CONSTRAINT tokengate_clients_grants_check
  CHECK (grants <@ ARRAY[
    'authorization_code', 'client_credentials', 'password', 'refresh_token',
    'urn:ietf:params:oauth:grant-type:device_code',
    'urn:ietf:params:oauth:grant-type:token-exchange'
  ]);

-- Pending device authorizations: both codes under their SHA-256 only (hashToken). user_code
-- is cleared once the user decided (single use). Rows are dropped when consumed, or by
-- PostgresDeviceStore.cleanup() / this query 10 minutes after expiry:
--   DELETE FROM tokengate_device_authorizations WHERE expires_at + 600 <= extract(epoch FROM now());
CREATE TABLE IF NOT EXISTS tokengate_device_authorizations (
  id              text     PRIMARY KEY,
  user_code       text     UNIQUE,
  client_id       text     NOT NULL,
  scope           text[]   NOT NULL,
  resources       text[],
  expires_at      bigint   NOT NULL,
  poll_interval   integer  NOT NULL CHECK (poll_interval > 0),
  status          text     NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
  user_id         text,
  last_polled_at  bigint
);
CREATE INDEX IF NOT EXISTS tokengate_device_authorizations_expires_at ON tokengate_device_authorizations (expires_at);

COMMIT;
