// PgStore: the Store of record on PostgreSQL 15, via libpqxx 6.4 (SPEC §6 storage).
//
// One PgStore owns one database connection (one session). Open() connects and applies
// the embedded schema migrations (migrations.h). The writer then:
//
//   auto store = PgStore::Open(dsn);          // Result<std::unique_ptr<PgStore>>
//   (*store)->AcquireWriterLock();            // blocks while another writer holds it
//   ledger.Restore((*store)->LoadJournal());  // rebuild the state in memory
//   … Append(prepared batch, ledger) per batch …
//
// Append writes a batch in ONE transaction: the `batches` row (bytes, hash chain), its
// transfers (each with its position in the batch and both sides' balances after it, for
// statements), and one upserted `accounts` row per touched account in ascending id order
// (the fixed order that keeps concurrent writers from deadlocking). Before writing it
// checks, inside the transaction, that the batch continues the stored chain (sequence =
// last + 1, prev_hash = last hash) — so a writer whose memory is stale can never write.
// All of it is one call of the SQL function ayni_append (migrations 0005, 0006) with a
// column of rows per array parameter, sent in PostgreSQL's binary array format, outside a
// transaction block: the server runs the one statement as its own transaction and
// commits it before it answers, one round trip a batch.
//
// Writer lock: a session-level pg_advisory_lock on kWriterLockKey. PostgreSQL releases it
// when the session ends (process killed, connection closed), so a standby blocked in
// AcquireWriterLock takes over. Once this store has taken the lock, it never writes
// without it: after a broken connection it reconnects and re-takes the lock without
// waiting; if another process holds it by then, every later Append is refused
// (FAILED_PRECONDITION) and the process must restart as a standby.
//
// Errors: libpqxx throws; PgStore catches everything at this boundary and translates
// (STYLE: errors of kind 4): a refused connection, or one found closed before the call is
// sent → kNotCommitted, UNAVAILABLE (the next call reconnects); a connection lost once
// the call is out → AppendOutcome::kUnknown (it may have committed: resolve with
// LastBatch(), never by retrying blindly); the server refusing the statement with the
// session intact → kNotCommitted with the server's message. Nothing of a refused batch
// is visible.
//
// Thread-safety: none; one thread (the writer) uses a PgStore. Several PgStores (several
// connections) may be used from different threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "clearing/journal.h"
#include "clearing/ledger.h"
#include "clearing/status.h"
#include "server/storage/store.h"

namespace ayni::server {

// The writer lock's key, one per database: ASCII "AYNIWRIT" as a signed 64-bit key.
inline constexpr int64_t kWriterLockKey = 0x41594E4957524954;
// Serialises concurrent Open()s while they migrate: ASCII "AYNIMIGR".
inline constexpr int64_t kMigrationLockKey = 0x41594E494D494752;

// One account whose stored row differs from the ledger's state.
struct AccountDiff {
  AccountId id;
  std::string what;  // e.g. "balance: database 700, ledger 1000"; "missing in database"
};

class PgStore final : public Store {
 public:
  // Connects to `dsn` (a libpq connection string) and applies missing migrations.
  // UNAVAILABLE when the server cannot be reached; FAILED_PRECONDITION when the database's
  // schema is newer than this binary; INTERNAL when a migration fails (nothing applied).
  static Result<std::unique_ptr<PgStore>> Open(const std::string& dsn);
  ~PgStore() override;
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

  // Store.
  AppendResult Append(const SealedBatch& batch, const Ledger& ledger) override;
  Result<StoreHead> LastBatch() override;
  Result<uint64_t> LastSequence();  // LastBatch().sequence
  // Pair assertion after reading: sequences are 1, 2, 3, … and each row's prev_hash is
  // the previous row's hash; DATA_LOSS naming the batch otherwise. (The bytes against
  // the hashes are verified by Ledger::Restore / ReplayJournal.)
  Result<std::vector<StoredBatch>> LoadJournal() override;

  // Blocks until this session holds the writer lock (a hot standby waits here). OK at
  // once when already held. UNAVAILABLE when the connection breaks meanwhile.
  Status AcquireWriterLock();
  // Takes the writer lock if free: true when held afterwards, false when another session
  // holds it.
  Result<bool> TryAcquireWriterLock();
  // How long a reconnecting writer waits for its own old session to end (and with it any
  // COMMIT in flight) before concluding that a standby took the lock.
  static constexpr uint32_t kReacquireLockTimeoutMs = 5000;
  bool holds_writer_lock() const { return lock_held_; }

  // Compares every `accounts` row with the ledger's accounts (all fields the ledger
  // has), in both directions, so an audit catches a row changed behind the writer's back.
  // Empty when they agree. Ascending account id.
  Result<std::vector<AccountDiff>> VerifyAccountsAgainst(const Ledger& ledger);

  // The highest applied migration version.
  Result<int> SchemaVersion();

 private:
  // Blocks up to timeout_ms for the writer lock on the current connection.
  Result<bool> AcquireWriterLockWithin(uint32_t timeout_ms);
  explicit PgStore(std::string dsn);
  // (Re)connects when there is no live connection (or the server closed it while idle);
  // after a reconnect, re-takes the writer lock if this store held it.
  Status EnsureConnected();
  Status ApplyMigrations();
  void Disconnect();
  // True when the live connection has data or its end waiting while no statement is
  // out: the server closed the session (a poll, no round trip).
  bool ServerClosedIdleSession() const;

  struct Connection;  // the pqxx::connection (pg_store.cc), so users need no libpqxx headers

  std::string dsn_;
  std::unique_ptr<Connection> conn_;
  bool lock_held_ = false;  // this store took the writer lock (kept across reconnects)
  bool lock_lost_ = false;  // another session took it after our connection broke
};

}  // namespace ayni::server
