-- 0002: API keys (SPEC §6 "Auth"), one row per auth::KeyRecord (server/auth/api_key.h).
--
-- Only the BLAKE2b-256 hash of a key's secret is stored; the token is never stored.
-- request_id is the CreateApiKey request that made the key (NULL for the bootstrap key
-- minted by aynid on an empty table), so that a retry answers REASON_EXISTS.
-- Enums are the stable numbers of auth::Role and auth::ScopeKind; times are ns since the
-- epoch, 0 = none.

CREATE TABLE api_keys (
  key_id        bigint   PRIMARY KEY CHECK (key_id <> 0),
  role          smallint NOT NULL CHECK (role BETWEEN 1 AND 6),
  scope_kind    smallint NOT NULL CHECK (scope_kind BETWEEN 1 AND 4),
  scope_id      bigint   NOT NULL,
  label         text     NOT NULL CHECK (octet_length(label) BETWEEN 1 AND 120),
  secret_hash   bytea    NOT NULL CHECK (length(secret_hash) = 32),
  created_at_ns bigint   NOT NULL,
  created_by    bigint   NOT NULL,
  expires_at_ns bigint   NOT NULL DEFAULT 0,
  revoked_at_ns bigint   NOT NULL DEFAULT 0,
  revoked_by    text     NOT NULL DEFAULT '',
  revoke_reason text     NOT NULL DEFAULT '',
  request_id    bytea    UNIQUE CHECK (request_id IS NULL OR length(request_id) = 16)
);
