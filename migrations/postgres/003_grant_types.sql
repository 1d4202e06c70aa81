-- tokengate PostgreSQL schema, migration 003: the grant types of RFC 8628 and RFC 8693.
--
-- Run after 001 (and 002), before starting a version that uses them:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f node_modules/tokengate/migrations/postgres/003_grant_types.sql
-- Safe to run twice. It only widens the check on tokengate_clients.grants, so that a client may
-- list the device authorization grant and token exchange.

BEGIN;

ALTER TABLE tokengate_clients DROP CONSTRAINT IF EXISTS tokengate_clients_grants_check;
ALTER TABLE tokengate_clients ADD CONSTRAINT tokengate_clients_grants_check
  CHECK (grants <@ ARRAY[
    'authorization_code', 'client_credentials', 'password', 'refresh_token',
    'urn:ietf:params:oauth:grant-type:device_code',
    'urn:ietf:params:oauth:grant-type:token-exchange'
  ]);

COMMIT;
