#include "server/storage/pg_reader.h"

#include <algorithm>
#include <limits>
#include <pqxx/pqxx>
#include <utility>

#include "server/storage/pg_common.h"

namespace ayni::server {

struct PgReader::Connection {
  explicit Connection(const std::string& dsn) : c(dsn) {}
  pqxx::connection c;
};

namespace {

using pg::I64;
using pg::ToVector;
using pg::TranslateCurrent;

constexpr const char* kSnapshotBatches = "ayni_snapshot_batches";
constexpr const char* kSnapshotAccounts = "ayni_snapshot_accounts";
constexpr const char* kStatement = "ayni_statement";

void PrepareStatements(pqxx::connection& c) {
  c.prepare(kSnapshotBatches, "SELECT sequence, hash, bytes FROM batches ORDER BY sequence");
  c.prepare(kSnapshotAccounts,
            "SELECT id, bank, currency, kind, owner, counterparty, status, credit_limit, "
            "ceiling, balance, debits_posted, credits_posted, last_batch FROM accounts "
            "ORDER BY id");
  // Each side on its own index, each limited, then merged: a page costs O(limit) rows
  // however long the account's history is.
  const std::string side =
      "SELECT id, request_id, leg, debit, credit, currency, amount, code, timestamp_ns, memo, "
      "batch, ord, %s AS balance_after FROM transfers WHERE %s = $1 AND batch <= $2 AND "
      "(batch, ord) > ($3, $4) AND timestamp_ns BETWEEN $5 AND $6 ORDER BY batch, ord LIMIT $7";
  auto format = [&](const char* balance, const char* column) {
    std::string s = side;
    s.replace(s.find("%s"), 2, balance);
    s.replace(s.find("%s"), 2, column);
    return s;
  };
  c.prepare(kStatement, "SELECT * FROM ((" + format("debit_balance_after", "debit") +
                            ") UNION ALL (" + format("credit_balance_after", "credit") +
                            ")) s ORDER BY batch, ord LIMIT $7");
}

template <typename Id>
Id WideFrom(const pqxx::field& f) {
  const std::vector<uint8_t> v = ToVector(f);
  typename Id::Bytes b{};
  if (v.size() == b.size()) std::copy(v.begin(), v.end(), b.begin());
  return Id(b);
}

uint64_t U64(const pqxx::field& f) { return static_cast<uint64_t>(f.as<int64_t>()); }

}  // namespace

PgReader::PgReader(std::string dsn) : dsn_(std::move(dsn)) {}
PgReader::~PgReader() = default;

Status PgReader::EnsureConnected() {
  if (conn_ != nullptr && conn_->c.is_open()) return Status::Ok();
  conn_.reset();
  try {
    auto conn = std::make_unique<Connection>(dsn_);
    PrepareStatements(conn->c);
    conn_ = std::move(conn);
  } catch (...) {
    const Status s = TranslateCurrent("connect (reader)");
    return s.code() == StatusCode::kUnavailable ? s : Status::Unavailable(s.message());
  }
  return Status::Ok();
}

Result<DatabaseSnapshot> PgReader::Snapshot() {
  if (Status s = EnsureConnected(); !s.ok()) return s;
  DatabaseSnapshot snap;
  try {
    // One snapshot for both tables: the writer commits a batch and its account rows
    // together, so the rows read here are exactly the state after the last batch read.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>
        tx(conn_->c, "snapshot");
    const pqxx::result batches = tx.exec_prepared(kSnapshotBatches);
    snap.batches.reserve(batches.size());
    for (const auto& row : batches) {
      StoredBatch b;
      b.sequence = U64(row[0]);
      const std::vector<uint8_t> hash = ToVector(row[1]);
      // A hash of the wrong length stays all zeros here, so the replay reports it.
      if (hash.size() == b.hash.size()) std::copy(hash.begin(), hash.end(), b.hash.begin());
      b.bytes = ToVector(row[2]);
      snap.batches.push_back(std::move(b));
    }
    const pqxx::result accounts = tx.exec_prepared(kSnapshotAccounts);
    snap.accounts.reserve(accounts.size());
    for (const auto& row : accounts) {
      snap.accounts.push_back(StoredAccountRow{
          .id = U64(row[0]),
          .bank = U64(row[1]),
          .currency = U64(row[2]),
          .kind = row[3].as<int64_t>(),
          .status = row[6].as<int64_t>(),
          .owner = U64(row[4]),
          .counterparty = U64(row[5]),
          .credit_limit = row[7].as<int64_t>(),
          .ceiling = row[8].as<int64_t>(),
          .balance = row[9].as<int64_t>(),
          .debits_posted = row[10].as<int64_t>(),
          .credits_posted = row[11].as<int64_t>(),
          .last_batch = U64(row[12]),
      });
    }
    tx.commit();
  } catch (...) {
    const Status s = TranslateCurrent("read snapshot");
    if (s.code() == StatusCode::kUnavailable) conn_.reset();
    return s;
  }
  return snap;
}

Result<std::vector<StatementRow>> PgReader::Statement(const StatementQuery& q) {
  if (Status s = EnsureConnected(); !s.ok()) return s;
  std::vector<StatementRow> rows;
  try {
    pqxx::read_transaction tx(conn_->c, "statement");
    const int64_t until =
        q.until_ns == 0 ? std::numeric_limits<int64_t>::max() : I64(q.until_ns);
    const pqxx::result r =
        tx.exec_prepared(kStatement, I64(q.account.value()), I64(q.max_batch), I64(q.after_batch),
                         q.after_ord, I64(q.since_ns), until, static_cast<int64_t>(q.limit));
    rows.reserve(r.size());
    for (const auto& row : r) {
      StatementRow s;
      Transfer& t = s.transfer;
      t.id = WideFrom<TransferId>(row[0]);
      t.request = WideFrom<RequestId>(row[1]);
      t.leg = static_cast<uint32_t>(row[2].as<int64_t>());
      t.debit = AccountId(U64(row[3]));
      t.credit = AccountId(U64(row[4]));
      t.currency = CurrencyId(U64(row[5]));
      t.amount = Amount(row[6].as<int64_t>());
      t.code = static_cast<TransferCode>(row[7].as<int>());
      t.timestamp_ns = U64(row[8]);
      t.memo = row[9].as<std::string>();
      s.batch = U64(row[10]);
      s.ord = row[11].as<int64_t>();
      s.balance_after = row[12].as<int64_t>();
      rows.push_back(std::move(s));
    }
  } catch (...) {
    const Status s = TranslateCurrent("statement");
    if (s.code() == StatusCode::kUnavailable) conn_.reset();
    return s;
  }
  return rows;
}

}  // namespace ayni::server
