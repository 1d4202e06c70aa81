-- tokengate PostgreSQL schema, migration 004: extension grants (RFC 6749 §4.5, options.grants).
--
-- Run after 001-003, before starting a version whose clients list extension grants:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f node_modules/tokengate/migrations/postgres/004_extension_grants.sql
-- Safe to run twice. It widens the check on tokengate_clients.grants once more: besides the
-- built-in grant types, any absolute URI (a scheme, ":", no spaces or fragment), which is what
-- an extension grant type is. Other names (a typo such as 'client-credentials') stay refused.

BEGIN;

-- A CHECK constraint cannot look into an array element by element without a function.
CREATE OR REPLACE FUNCTION tokengate_grant_types_valid(grants text[]) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT AS $$
    -- A NULL element is refused (coalesce), an empty array accepted.
    SELECT coalesce(bool_and(coalesce(
      g IN ('authorization_code', 'client_credentials', 'password', 'refresh_token',
            'urn:ietf:params:oauth:grant-type:device_code',
            'urn:ietf:params:oauth:grant-type:token-exchange')
      OR (g ~ '^[A-Za-z][A-Za-z0-9+.-]*:[!$-~]+$' AND g !~ '[#"\\]'),
    false)), true)
    FROM unnest(grants) AS g
  $$;

ALTER TABLE tokengate_clients DROP CONSTRAINT IF EXISTS tokengate_clients_grants_check;
ALTER TABLE tokengate_clients ADD CONSTRAINT tokengate_clients_grants_check
  CHECK (tokengate_grant_types_valid(grants));

COMMIT;
