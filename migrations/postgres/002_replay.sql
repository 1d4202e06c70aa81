-- tokengate PostgreSQL schema, version 2: single-use ids (tokengate/postgres postgresReplayStore).
--
-- Run once per database after 001_tokengate.sql:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f node_modules/tokengate/migrations/postgres/002_replay.sql
-- It is safe to run twice.
--
-- The jti of every DPoP proof (RFC 9449 §11.1) and client assertion (RFC 7523 §3) is kept here
-- until the proof could no longer be accepted, so one replayed at another instance is refused.
-- Ids are SHA-256 hashes (base64url), never the proof. Expired rows are removed by
-- PostgresReplayStore.cleanup(), or on a schedule:
--   DELETE FROM tokengate_replay WHERE expires_at <= extract(epoch FROM now());

BEGIN;

CREATE TABLE IF NOT EXISTS tokengate_replay (
  id          text    PRIMARY KEY,
  expires_at  bigint  NOT NULL
);
CREATE INDEX IF NOT EXISTS tokengate_replay_expires_at ON tokengate_replay (expires_at);

COMMIT;
