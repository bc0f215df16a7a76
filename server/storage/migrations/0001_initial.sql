-- 0001: the store of record for the batching writer (SPEC §6 write path).
--
-- batches   one row per committed ledger batch: the journal (canonical bytes) and its
--           hash chain; the ledger is rebuilt from these rows alone (Ledger::Restore).
-- transfers one row per posted transfer, for statements and audits; derived from the
--           batch bytes, written in the same transaction.
-- accounts  one row per account with its state after the last batch that touched it;
--           derived, so an audit can compare it with the journal and the ledger.
--
-- Ids are the ledger's dense ids (0 = none); enums are the stable numbers of
-- clearing/model.h. No foreign keys on the hot tables: every row of a batch is written
-- in one transaction by the one writer, which checks the chain before writing, and a
-- per-row trigger would cost a large share of the bulk insert.
--
-- batches.bytes is compressed with lz4, not the default pglz: a full batch (8,190
-- payments, ~1.4 MB) took ~60 ms to compress with pglz and ~7 ms with lz4, at about the
-- same ratio (~4×). Debian's and PGDG's PostgreSQL 15 are built with lz4.

CREATE TABLE batches (
  sequence     bigint PRIMARY KEY CHECK (sequence > 0),
  timestamp_ns bigint NOT NULL,
  prev_hash    bytea  NOT NULL CHECK (length(prev_hash) = 32),
  hash         bytea  NOT NULL CHECK (length(hash) = 32),
  bytes        bytea  COMPRESSION lz4 NOT NULL
);

CREATE TABLE transfers (
  id           bytea    PRIMARY KEY CHECK (length(id) = 16),
  request_id   bytea    NOT NULL CHECK (length(request_id) = 16),
  leg          int      NOT NULL CHECK (leg >= 0),
  debit        bigint   NOT NULL,
  credit       bigint   NOT NULL,
  currency     bigint   NOT NULL,
  amount       bigint   NOT NULL CHECK (amount > 0),
  code         smallint NOT NULL,
  timestamp_ns bigint   NOT NULL,
  memo         text     NOT NULL,
  batch        bigint   NOT NULL
);

CREATE TABLE accounts (
  id             bigint   PRIMARY KEY CHECK (id > 0),
  bank           bigint   NOT NULL,
  currency       bigint   NOT NULL,
  kind           smallint NOT NULL,
  owner          bigint   NOT NULL,  -- member and merchant accounts; 0 otherwise
  counterparty   bigint   NOT NULL,  -- DUE_FROM / DUE_TO; 0 otherwise
  status         smallint NOT NULL,
  credit_limit   bigint   NOT NULL,
  ceiling        bigint   NOT NULL,
  balance        bigint   NOT NULL,  -- credits − debits, minor units
  debits_posted  bigint   NOT NULL,
  credits_posted bigint   NOT NULL,
  last_batch     bigint   NOT NULL   -- sequence of the last batch that touched it
);
