// PgReader: read-only queries for statements and audits on a connection of its own, so
// they never wait behind (or delay) the writer's session (SPEC §6: gRPC threads never
// block on the database; the service runs a PgReader on its own thread).
//
//   PgReader reader(dsn);                 // connects lazily, reconnects after a failure
//   reader.Snapshot();                    // journal + account rows, one consistent view
//   reader.Statement(query);              // one page of an account's history
//
// Errors: UNAVAILABLE while PostgreSQL cannot be reached (the next call reconnects);
// INTERNAL for anything else, with the server's message.
// Thread-safety: none; one thread uses a PgReader.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "clearing/journal.h"
#include "clearing/model.h"
#include "clearing/status.h"

namespace ayni::server {

// One `accounts` row as stored.
struct StoredAccountRow {
  uint64_t id = 0, bank = 0, currency = 0;
  int64_t kind = 0, status = 0;
  uint64_t owner = 0, counterparty = 0;
  int64_t credit_limit = 0, ceiling = 0, balance = 0, debits_posted = 0, credits_posted = 0;
  uint64_t last_batch = 0;
};

// The journal and the account rows as of one committed batch (one REPEATABLE READ
// transaction). Batches are returned as stored, in sequence order, without any check:
// verifying them is the caller's job (ReplayJournal).
struct DatabaseSnapshot {
  std::vector<StoredBatch> batches;
  std::vector<StoredAccountRow> accounts;  // ascending id
};

struct StatementQuery {
  AccountId account;
  uint64_t since_ns = 0, until_ns = 0;  // inclusive commit-time window; 0 = unbounded
  uint64_t max_batch = 0;               // only batches ≤ this (the caller's head)
  uint64_t after_batch = 0;             // continue after (after_batch, after_ord)
  int64_t after_ord = -1;
  uint32_t limit = 100;
};

// One transfer of the account's history, oldest first.
struct StatementRow {
  Transfer transfer;
  uint64_t batch = 0;
  int64_t ord = 0;
  int64_t balance_after = 0;  // the statement account's balance right after it
};

class PgReader {
 public:
  explicit PgReader(std::string dsn);
  ~PgReader();
  PgReader(const PgReader&) = delete;
  PgReader& operator=(const PgReader&) = delete;

  Result<DatabaseSnapshot> Snapshot();
  // Up to q.limit rows after the (after_batch, after_ord) position.
  Result<std::vector<StatementRow>> Statement(const StatementQuery& q);

 private:
  Status EnsureConnected();
  struct Connection;
  std::string dsn_;
  std::unique_ptr<Connection> conn_;
};

}  // namespace ayni::server
