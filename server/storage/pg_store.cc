#include "server/storage/pg_store.h"

#include <poll.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <exception>
#include <pqxx/pqxx>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "clearing/check.h"
#include "server/storage/migrations.h"
#include "server/storage/pg_common.h"

namespace ayni::server {

struct PgStore::Connection {
  explicit Connection(const std::string& dsn) : c(dsn) {}
  pqxx::connection c;
};

namespace {

using pg::I64;
using pg::ToVector;
using pg::TranslateCurrent;

// Prepared statement names (one set per connection).
constexpr const char* kAppend = "ayni_append";
constexpr const char* kLastSequence = "ayni_last_sequence";
constexpr const char* kLoadJournal = "ayni_load_journal";
constexpr const char* kSelectAccounts = "ayni_select_accounts";
constexpr const char* kLock = "ayni_lock";
constexpr const char* kTryLock = "ayni_try_lock";

void PrepareStatements(pqxx::connection& c) {
  c.prepare(kAppend,
            "SELECT ayni_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
            "$16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)");
  c.prepare(kLastSequence, "SELECT sequence, hash FROM batches ORDER BY sequence DESC LIMIT 1");
  c.prepare(kLoadJournal, "SELECT sequence, prev_hash, hash, bytes FROM batches ORDER BY sequence");
  c.prepare(kSelectAccounts,
            "SELECT id, bank, currency, kind, owner, counterparty, status, credit_limit, "
            "ceiling, balance, debits_posted, credits_posted FROM accounts ORDER BY id");
  c.prepare(kLock, "SELECT pg_advisory_lock($1)");
  c.prepare(kTryLock, "SELECT pg_try_advisory_lock($1)");
}

pqxx::binarystring Bytes(std::span<const uint8_t> b) {
  return pqxx::binarystring(b.data(), b.size());
}

// A one-dimensional PostgreSQL array without NULLs in the binary format that the
// server's array_recv reads, for the array parameters of ayni_append: one parameter a
// column instead of one message a row, and no text to build here or to parse on the
// server (5–7 % of Append's time for 1,000–4,000 payments, docs/benchmarks.md).
//
//   int32 ndim (1, or 0 when empty) · int32 has-nulls (0) · uint32 element type OID ·
//   [int32 length · int32 lower bound (1)] · per element: int32 byte length, the bytes
//
// All integers in network byte order; an element is what the type's receive function
// reads (int8/int4/int2: big-endian; bytea: raw bytes; text: UTF-8, no NUL). The server
// refuses an array whose element type is not the parameter's.
class BinaryArray {
 public:
  // The element type OIDs of pg_type (stable since PostgreSQL 7).
  enum class Type : uint32_t { kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25 };

  BinaryArray(Type type, size_t reserve_bytes) : type_(type) {
    bytes_.reserve(20 + reserve_bytes);
    Put32(0);  // ndim, set by Close
    Put32(0);  // no NULLs
    Put32(static_cast<uint32_t>(type));
    Put32(0);  // length, set by Close
    Put32(1);  // lower bound
  }

  // An integer element of this array's type (int8, int4 or int2), range-checked.
  void Add(int64_t v) {
    switch (type_) {
      case Type::kInt8:
        Begin(8);
        Put64(static_cast<uint64_t>(v));
        return;
      case Type::kInt4:
        AYNI_CHECK(v >= INT32_MIN && v <= INT32_MAX);
        Begin(4);
        Put32(static_cast<uint32_t>(static_cast<int32_t>(v)));
        return;
      case Type::kInt2: {
        AYNI_CHECK(v >= INT16_MIN && v <= INT16_MAX);
        Begin(2);
        const uint16_t u = static_cast<uint16_t>(static_cast<int16_t>(v));
        bytes_.push_back(static_cast<char>(u >> 8));
        bytes_.push_back(static_cast<char>(u & 0xff));
        return;
      }
      case Type::kBytea:
      case Type::kText:
        break;
    }
    AYNI_CHECK(false && "BinaryArray::Add on a non-integer array");
  }
  void AddBytea(std::span<const uint8_t> b) {
    AYNI_CHECK(type_ == Type::kBytea);
    Begin(b.size());
    bytes_.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  // NUL never reaches here (the ledger refuses it in a memo); the server checks UTF-8.
  void AddText(std::string_view s) {
    AYNI_CHECK(type_ == Type::kText);
    Begin(s.size());
    bytes_.append(s);
  }

  // The finished array; nothing may be added after.
  pqxx::binarystring Close() {
    AYNI_CHECK(!closed_);
    closed_ = true;
    if (count_ == 0) {
      bytes_.resize(12);  // ndim 0: no dimension, no elements
    } else {
      Set32(0, 1);
      Set32(12, count_);
    }
    return pqxx::binarystring(bytes_);
  }

 private:
  void Begin(size_t size) {
    AYNI_CHECK(!closed_ && size <= INT32_MAX && count_ < INT32_MAX);
    ++count_;
    Put32(static_cast<uint32_t>(size));
  }
  void Put32(uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff),
                       static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)};
    bytes_.append(b, 4);
  }
  void Put64(uint64_t v) {
    Put32(static_cast<uint32_t>(v >> 32));
    Put32(static_cast<uint32_t>(v & 0xffffffffu));
  }
  void Set32(size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes_[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xff);
  }

  Type type_;
  std::string bytes_;
  uint32_t count_ = 0;
  bool closed_ = false;
};

}  // namespace

PgStore::PgStore(std::string dsn) : dsn_(std::move(dsn)) {}
PgStore::~PgStore() = default;

void PgStore::Disconnect() { conn_.reset(); }

bool PgStore::ServerClosedIdleSession() const {
  // Between statements the server sends nothing unasked (no LISTEN, no SET here) except
  // the FATAL it sends when it ends the session, and then the end of the stream: data
  // waiting on an idle session means it is gone.
  pollfd p{.fd = conn_->c.sock(), .events = POLLIN, .revents = 0};
  return p.fd < 0 || ::poll(&p, 1, 0) != 0;
}

Result<std::unique_ptr<PgStore>> PgStore::Open(const std::string& dsn) {
  std::unique_ptr<PgStore> store(new PgStore(dsn));
  if (Status s = store->EnsureConnected(); !s.ok()) return s;
  if (Status s = store->ApplyMigrations(); !s.ok()) return s;
  return store;
}

Status PgStore::EnsureConnected() {
  if (lock_lost_) {
    return Status::FailedPrecondition(
        "the writer lock was lost after a reconnect and another process holds it: this "
        "process must not write; restart it as a standby");
  }
  // A session the server closed while it sat idle (a restart, an idle timeout) is
  // replaced before anything is sent on it: for Append that is the difference between a
  // batch that goes through and one whose outcome is unknown.
  if (conn_ != nullptr && conn_->c.is_open() && !ServerClosedIdleSession()) {
    return Status::Ok();
  }
  conn_.reset();
  try {
    auto conn = std::make_unique<Connection>(dsn_);
    // libpqxx 6 would silently reconnect a broken connection on next use, dropping the
    // session's advisory lock without telling us; we reconnect ourselves instead.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    conn->c.inhibit_reactivation(true);
#pragma GCC diagnostic pop
    PrepareStatements(conn->c);
    conn_ = std::move(conn);
  } catch (...) {
    conn_.reset();
    const Status s = TranslateCurrent("connect");
    // A server that refuses or drops a new connection is unavailable, whatever the class.
    return s.code() == StatusCode::kUnavailable ? s : Status::Unavailable(s.message());
  }
  if (lock_held_) {
    // The old session's lock goes when its backend ends, and that backend may still be
    // finishing a COMMIT whose outcome we never heard. Waiting for the lock (bounded)
    // waits for that backend, so what we read afterwards is final. If the wait runs out,
    // a standby holds the lock: it is the writer now.
    lock_held_ = false;
    Result<bool> got = AcquireWriterLockWithin(kReacquireLockTimeoutMs);
    if (!got.ok()) return got.status();
    if (!*got) {
      lock_lost_ = true;
      Disconnect();
      return EnsureConnected();  // the FAILED_PRECONDITION above
    }
  }
  return Status::Ok();
}

Status PgStore::ApplyMigrations() {
  const std::span<const Migration> all = Migrations();
  for (size_t i = 0; i < all.size(); ++i) {
    AYNI_CHECK(all[i].version == static_cast<int>(i + 1));  // CMake enforces this too
  }
  const int latest = static_cast<int>(all.size());
  try {
    pqxx::work tx(conn_->c, "migrate");
    // Two processes opening a new database at once: the second waits, then sees the
    // first one's rows and applies nothing.
    tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")");
    const bool has_table =
        !tx.exec1("SELECT to_regclass('schema_migrations') IS NULL")[0].as<bool>();
    if (!has_table) {
      tx.exec(
          "CREATE TABLE schema_migrations ("
          "  version int PRIMARY KEY,"
          "  applied_at timestamptz NOT NULL DEFAULT now())");
    }
    const pqxx::result rows = tx.exec("SELECT version FROM schema_migrations ORDER BY version");
    int applied = 0;
    for (const auto& row : rows) {
      const int v = row[0].as<int>();
      if (v != applied + 1) {
        return Status::FailedPrecondition("schema_migrations: version " + std::to_string(v) +
                                          " follows version " + std::to_string(applied) +
                                          "; the schema was changed by hand");
      }
      applied = v;
    }
    if (applied > latest) {
      return Status::FailedPrecondition("the database schema is at version " +
                                        std::to_string(applied) + ", newer than this binary's " +
                                        std::to_string(latest) + "; upgrade the binary");
    }
    for (int v = applied + 1; v <= latest; ++v) {
      const Migration& m = all[static_cast<size_t>(v - 1)];
      try {
        tx.exec(m.sql);
      } catch (const pqxx::sql_error& e) {
        throw pqxx::failure(std::string("migration ") + m.name + ": " + e.what());
      }
      tx.exec_params("INSERT INTO schema_migrations (version) VALUES ($1)", v);
    }
    tx.commit();
  } catch (...) {
    const Status s = TranslateCurrent("apply migrations");
    if (s.code() == StatusCode::kUnavailable) Disconnect();
    return s;
  }
  return Status::Ok();
}

Result<int> PgStore::SchemaVersion() {
  if (Status s = EnsureConnected(); !s.ok()) return s;
  try {
    pqxx::read_transaction tx(conn_->c);
    return tx.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations")[0].as<int>();
  } catch (...) {
    const Status s = TranslateCurrent("schema version");
    if (s.code() == StatusCode::kUnavailable) Disconnect();
    return s;
  }
}

Status PgStore::AcquireWriterLock() {
  if (lock_held_) return Status::Ok();
  if (Status s = EnsureConnected(); !s.ok()) return s;
  try {
    pqxx::nontransaction tx(conn_->c);
    tx.exec_prepared(kLock, kWriterLockKey);
    lock_held_ = true;
  } catch (...) {
    const Status s = TranslateCurrent("acquire writer lock");
    if (s.code() == StatusCode::kUnavailable) Disconnect();
    return s;
  }
  return Status::Ok();
}

Result<bool> PgStore::TryAcquireWriterLock() {
  if (lock_held_) return true;
  if (Status s = EnsureConnected(); !s.ok()) return s;
  try {
    pqxx::nontransaction tx(conn_->c);
    lock_held_ = tx.exec_prepared1(kTryLock, kWriterLockKey)[0].as<bool>();
  } catch (...) {
    const Status s = TranslateCurrent("try writer lock");
    if (s.code() == StatusCode::kUnavailable) Disconnect();
    return s;
  }
  return lock_held_;
}

Result<bool> PgStore::AcquireWriterLockWithin(uint32_t timeout_ms) {
  AYNI_CHECK(conn_ != nullptr);
  try {
    pqxx::nontransaction tx(conn_->c);
    tx.exec("SET lock_timeout = " + std::to_string(timeout_ms));
    try {
      tx.exec_prepared(kLock, kWriterLockKey);
      lock_held_ = true;
    } catch (const pqxx::sql_error& e) {
      if (e.sqlstate() != "55P03") throw;  // lock_not_available: the wait ran out
    }
    tx.exec("SET lock_timeout = 0");
  } catch (...) {
    const Status s = TranslateCurrent("re-take writer lock");
    if (s.code() == StatusCode::kUnavailable) Disconnect();
    return s;
  }
  return lock_held_;
}

Result<uint64_t> PgStore::LastSequence() {
  Result<StoreHead> head = LastBatch();
  if (!head.ok()) return head.status();
  return head->sequence;
}

Result<StoreHead> PgStore::LastBatch() {
  if (Status s = EnsureConnected(); !s.ok()) return s;
  try {
    pqxx::read_transaction tx(conn_->c);
    const pqxx::result r = tx.exec_prepared(kLastSequence);
    StoreHead head;
    if (r.empty()) return head;
    head.sequence = static_cast<uint64_t>(r[0][0].as<int64_t>());
    const pqxx::binarystring hash(r[0][1]);
    if (hash.size() != head.hash.size())
      return Status::DataLoss("stored batch hash is not 32 bytes");
    std::copy(hash.data(), hash.data() + hash.size(), head.hash.begin());
    return head;
  } catch (...) {
    const Status s = TranslateCurrent("last sequence");
    if (s.code() == StatusCode::kUnavailable) Disconnect();
    return s;
  }
}

Result<std::vector<StoredBatch>> PgStore::LoadJournal() {
  if (Status s = EnsureConnected(); !s.ok()) return s;
  std::vector<StoredBatch> out;
  try {
    pqxx::read_transaction tx(conn_->c);
    const pqxx::result rows = tx.exec_prepared(kLoadJournal);
    out.reserve(rows.size());
    Hash256 prev{};
    for (const auto& row : rows) {
      StoredBatch b;
      b.sequence = static_cast<uint64_t>(row[0].as<int64_t>());
      const std::vector<uint8_t> prev_hash = ToVector(row[1]);
      const std::vector<uint8_t> hash = ToVector(row[2]);
      const std::string where = "batches row " + std::to_string(b.sequence) + ": ";
      if (b.sequence != out.size() + 1) {
        return Status::DataLoss(where + "expected sequence " + std::to_string(out.size() + 1) +
                                " (the journal has a gap)");
      }
      if (hash.size() != b.hash.size() || prev_hash.size() != prev.size()) {
        return Status::DataLoss(where + "hash or prev_hash is not 32 bytes");
      }
      if (!std::equal(prev.begin(), prev.end(), prev_hash.begin())) {
        return Status::DataLoss(where + "prev_hash is not the hash of the batch before it");
      }
      std::copy(hash.begin(), hash.end(), b.hash.begin());
      b.bytes = ToVector(row[3]);
      prev = b.hash;
      out.push_back(std::move(b));
    }
  } catch (...) {
    const Status s = TranslateCurrent("load journal");
    if (s.code() == StatusCode::kUnavailable) Disconnect();
    return s;
  }
  return out;
}

AppendResult PgStore::Append(const SealedBatch& batch, const Ledger& ledger) {
  AYNI_CHECK(batch.sequence > 0);
  if (Status s = EnsureConnected(); !s.ok()) return {AppendOutcome::kNotCommitted, s};

  // Account rows in ascending id order (the ledger lists them in first-touch order).
  std::vector<AccountId> ids = batch.touched_accounts;
  std::sort(ids.begin(), ids.end());
  AYNI_CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
  // The account columns of ayni_append in order; kind and status are smallint, the
  // rest bigint.
  constexpr size_t kAccountColumns = 12;
  constexpr size_t kKind = 3, kStatus = 6;
  std::vector<BinaryArray> accounts;
  accounts.reserve(kAccountColumns);
  for (size_t c = 0; c < kAccountColumns; ++c) {
    const bool small = c == kKind || c == kStatus;
    accounts.emplace_back(small ? BinaryArray::Type::kInt2 : BinaryArray::Type::kInt8,
                          ids.size() * (small ? 6 : 12));
  }
  for (const AccountId id : ids) {
    const Account* a = ledger.FindAccount(id);
    AYNI_CHECK(a != nullptr);  // the ledger touched it, so it has it
    const int64_t values[kAccountColumns] = {
        I64(a->id.value()),
        I64(a->bank.value()),
        I64(a->currency.value()),
        static_cast<int64_t>(a->kind),
        I64(a->owner.value()),
        I64(a->counterparty.value()),
        static_cast<int64_t>(a->status),
        a->credit_limit.minor(),
        a->ceiling.minor(),
        a->balance.minor(),
        a->debits_posted.minor(),
        a->credits_posted.minor(),
    };
    for (size_t c = 0; c < kAccountColumns; ++c) accounts[c].Add(values[c]);
  }

  // Each side's balance right after each transfer (statements): walk the batch backwards
  // from the balances the ledger ends it with. Every intermediate balance of a batch the
  // ledger sealed existed in the ledger, so none overflows.
  std::vector<std::pair<int64_t, int64_t>> after(batch.transfers.size());
  {
    std::unordered_map<uint64_t, int64_t> balance;
    balance.reserve(ids.size());
    // Every transfer's accounts are among the touched ones; should a malformed batch name
    // another, its current balance stands in and PostgreSQL's checks decide.
    auto slot = [&](AccountId id) -> int64_t& {
      auto [it, added] = balance.try_emplace(id.value(), 0);
      if (added) {
        const Account* a = ledger.FindAccount(id);
        it->second = a ? a->balance.minor() : 0;
      }
      return it->second;
    };
    for (size_t i = batch.transfers.size(); i-- > 0;) {
      const Transfer& t = batch.transfers[i];
      int64_t& debit = slot(t.debit);
      int64_t& credit = slot(t.credit);
      after[i] = {debit, credit};
      // Wrapping, never trapping: only a malformed batch could overflow here.
      debit = static_cast<int64_t>(static_cast<uint64_t>(debit) + static_cast<uint64_t>(t.amount.minor()));
      credit = static_cast<int64_t>(static_cast<uint64_t>(credit) - static_cast<uint64_t>(t.amount.minor()));
    }
  }

  // The transfers, one array per column (ayni_append, migrations 0005 and 0006).
  const size_t n = batch.transfers.size();
  using T = BinaryArray::Type;
  BinaryArray t_id(T::kBytea, n * 20), t_request(T::kBytea, n * 20), t_leg(T::kInt4, n * 8),
      t_debit(T::kInt8, n * 12), t_credit(T::kInt8, n * 12), t_currency(T::kInt8, n * 12),
      t_amount(T::kInt8, n * 12), t_code(T::kInt2, n * 6), t_time(T::kInt8, n * 12),
      t_memo(T::kText, n * 8), t_debit_after(T::kInt8, n * 12), t_credit_after(T::kInt8, n * 12);
  for (size_t i = 0; i < n; ++i) {
    const Transfer& t = batch.transfers[i];
    t_id.AddBytea(t.id.bytes());
    t_request.AddBytea(t.request.bytes());
    t_leg.Add(static_cast<int64_t>(t.leg));
    t_debit.Add(I64(t.debit.value()));
    t_credit.Add(I64(t.credit.value()));
    t_currency.Add(I64(t.currency.value()));
    t_amount.Add(t.amount.minor());
    t_code.Add(static_cast<int64_t>(t.code));
    t_time.Add(I64(t.timestamp_ns));
    t_memo.AddText(t.memo);
    t_debit_after.Add(after[i].first);
    t_credit_after.Add(after[i].second);
  }

  const std::string where = "append batch " + std::to_string(batch.sequence);
  // The call is sent on its own, outside a transaction block: PostgreSQL runs the one
  // statement as its own transaction and commits it (fsync'd, synchronous_commit) before
  // it answers, so the batch costs one round trip instead of three (BEGIN, the call,
  // COMMIT): a fifth to a third of a small batch's time (docs/benchmarks.md). What a lost
  // session means changes with it: once the call is sent it may have committed although
  // no answer arrives, so a session lost from then on is kUnknown (the writer reads the
  // head). A session the server closed while it sat idle was replaced by EnsureConnected.
  try {
    pqxx::nontransaction tx(conn_->c, "append");
    tx.exec_prepared(
        kAppend, I64(batch.sequence), I64(batch.timestamp_ns), Bytes(batch.prev_hash),
        Bytes(batch.hash), Bytes(batch.bytes), t_id.Close(), t_request.Close(), t_leg.Close(),
        t_debit.Close(), t_credit.Close(), t_currency.Close(), t_amount.Close(), t_code.Close(),
        t_time.Close(), t_memo.Close(), t_debit_after.Close(), t_credit_after.Close(),
        accounts[0].Close(), accounts[1].Close(), accounts[2].Close(), accounts[3].Close(),
        accounts[4].Close(), accounts[5].Close(), accounts[6].Close(), accounts[7].Close(),
        accounts[8].Close(), accounts[9].Close(), accounts[10].Close(), accounts[11].Close());
  } catch (const pqxx::sql_error& e) {
    if (conn_->c.is_open()) {
      // The server refused the statement and the session goes on: the statement's
      // transaction rolled back, nothing of it is visible.
      const std::string& state = e.sqlstate();
      if (state == "AY001" || state == "AY002" || state == "AY003") {
        // The checks ayni_append makes before and after writing (migrations 0005, 0006).
        // The first line of "ERROR:  <message>\nCONTEXT: …" without its severity.
        std::string_view line(e.what());
        line = line.substr(0, line.find('\n'));
        if (line.starts_with("ERROR:")) line.remove_prefix(6);
        line.remove_prefix(std::min(line.find_first_not_of(' '), line.size()));
        std::string m = where + ": " + std::string(line);
        Status s = state == "AY001"   ? Status::FailedPrecondition(std::move(m))
                   : state == "AY002" ? Status::DataLoss(std::move(m))
                                      : Status::Internal(std::move(m));
        return {AppendOutcome::kNotCommitted, std::move(s)};
      }
      const Status s = TranslateCurrent(where);
      if (s.code() == StatusCode::kUnavailable) Disconnect();
      return {AppendOutcome::kNotCommitted, s};
    }
    // An error with the session's end (e.g. FATAL: terminating connection): the statement
    // may have committed before it.
    Disconnect();
    return {AppendOutcome::kUnknown,
            Status::Unavailable(where + ": session lost, outcome unknown: " + e.what())};
  } catch (...) {
    // The connection broke while the call was out, or anything else after it may have
    // been sent: whether it committed is not known.
    const Status s = TranslateCurrent(where);
    Disconnect();
    return {AppendOutcome::kUnknown,
            Status::Unavailable(where + ": outcome unknown: " + s.message())};
  }
  return {AppendOutcome::kCommitted, Status::Ok()};
}

Result<std::vector<AccountDiff>> PgStore::VerifyAccountsAgainst(const Ledger& ledger) {
  if (Status s = EnsureConnected(); !s.ok()) return s;
  std::vector<AccountDiff> diffs;
  try {
    pqxx::read_transaction tx(conn_->c);
    const pqxx::result rows = tx.exec_prepared(kSelectAccounts);
    const std::span<const Account> accounts = ledger.accounts();  // index = id − 1
    std::vector<bool> seen(accounts.size(), false);
    for (const auto& row : rows) {
      const int64_t id = row[0].as<int64_t>();
      const Account* a =
          id > 0 ? ledger.FindAccount(AccountId(static_cast<uint64_t>(id))) : nullptr;
      if (a == nullptr) {
        diffs.push_back({AccountId(static_cast<uint64_t>(id)), "missing in ledger"});
        continue;
      }
      seen[a->id.value() - 1] = true;
      const int64_t ledger_values[] = {
          I64(a->bank.value()),     I64(a->currency.value()),     static_cast<int64_t>(a->kind),
          I64(a->owner.value()),    I64(a->counterparty.value()), static_cast<int64_t>(a->status),
          a->credit_limit.minor(),  a->ceiling.minor(),           a->balance.minor(),
          a->debits_posted.minor(), a->credits_posted.minor(),
      };
      static constexpr const char* kNames[] = {
          "bank",         "currency", "kind",    "owner",         "counterparty",  "status",
          "credit_limit", "ceiling",  "balance", "debits_posted", "credits_posted"};
      std::string what;
      for (size_t i = 0; i < std::size(ledger_values); ++i) {
        const int64_t stored = row[static_cast<int>(i + 1)].as<int64_t>();
        if (stored == ledger_values[i]) continue;
        if (!what.empty()) what += "; ";
        what += std::string(kNames[i]) + ": database " + std::to_string(stored) + ", ledger " +
                std::to_string(ledger_values[i]);
      }
      if (!what.empty()) diffs.push_back({a->id, std::move(what)});
    }
    for (size_t i = 0; i < accounts.size(); ++i) {
      if (!seen[i]) diffs.push_back({accounts[i].id, "missing in database"});
    }
  } catch (...) {
    const Status s = TranslateCurrent("verify accounts");
    if (s.code() == StatusCode::kUnavailable) Disconnect();
    return s;
  }
  std::sort(diffs.begin(), diffs.end(),
            [](const AccountDiff& x, const AccountDiff& y) { return x.id < y.id; });
  return diffs;
}

}  // namespace ayni::server
