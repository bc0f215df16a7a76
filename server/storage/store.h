// Store: where the writer makes sealed ledger batches durable (SPEC §6 write path).
//
// The writer owns the ledger in memory; a Store persists each prepared batch in ONE
// database transaction and says whether it committed. Implementations: PgStore
// (PostgreSQL via libpqxx 6.4, server/storage/pg_store.h) and fakes in tests.
// Thread-safety: called from the writer thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "clearing/journal.h"
#include "clearing/ledger.h"
#include "clearing/status.h"

namespace ayni::server {

enum class AppendOutcome : uint8_t {
  kCommitted = 0,     // COMMIT succeeded: the batch is durable
  kNotCommitted = 1,  // certainly not durable (error before COMMIT, or rolled back)
  kUnknown = 2,       // the connection broke during COMMIT: resolve by reading
};

// The last committed batch: its sequence (0 when empty) and hash (zeros when empty).
struct StoreHead {
  uint64_t sequence = 0;
  Hash256 hash{};
};

struct AppendResult {
  AppendOutcome outcome = AppendOutcome::kNotCommitted;
  Status status;  // why, when not committed or unknown
};

class Store {
 public:
  virtual ~Store() = default;
  // Writes the batch (journal row with bytes and hash chain, transfer rows, one row per
  // touched account with its new state) in one transaction, rows in a fixed order.
  // `ledger` is the state after the batch (for the account rows).
  virtual AppendResult Append(const SealedBatch& batch, const Ledger& ledger) = 0;
  // The last committed batch; how an unknown outcome is resolved. The hash matters: a
  // sequence number alone cannot tell *which* batch committed under it. An implementation
  // must not answer while a commit of an earlier, broken session may still complete.
  virtual Result<StoreHead> LastBatch() = 0;
  // Every committed batch in sequence order, for Ledger::Restore at start-up.
  virtual Result<std::vector<StoredBatch>> LoadJournal() = 0;
};

}  // namespace ayni::server
