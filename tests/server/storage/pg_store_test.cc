// PgStore against a real PostgreSQL (the cluster deploy/test.sh starts; its DSN is in
// AYNI_TEST_PG). Each test creates its own database and drops it, so tests are hermetic
// and may run in any order. Without AYNI_TEST_PG every test FAILS: CI must never skip
// the storage tests silently.
#include "server/storage/pg_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <ostream>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "clearing/invariants.h"
#include "clearing/journal.h"
#include "clearing/ledger.h"
#include "server/storage/migrations.h"
#include "tests/clearing/ledger_fixture.h"

namespace ayni::server {

// Readable failures: gtest finds these by argument-dependent lookup.
void PrintTo(AppendOutcome o, std::ostream* os) {
  static constexpr const char* kNames[] = {"kCommitted", "kNotCommitted", "kUnknown"};
  *os << kNames[static_cast<int>(o)];
}

}  // namespace ayni::server

namespace ayni {
void PrintTo(StatusCode c, std::ostream* os) { *os << StatusCodeName(c); }
}  // namespace ayni

namespace ayni::server {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// ---- Per-test database ------------------------------------------------------------------

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("AYNI_TEST_PG");
    ASSERT_TRUE(base != nullptr && *base != '\0')
        << "AYNI_TEST_PG is not set. Run ./deploy/test.sh, or: deploy/pg.sh start DIR && "
           "export AYNI_TEST_PG=\"$(deploy/pg.sh dsn DIR)\"";
    base_ = base;
    static int counter = 0;
    db_ = "ayni_test_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    Admin("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
    Admin("CREATE DATABASE " + db_);
    dsn_ = base_ + " dbname=" + db_;  // libpq: the last dbname wins
  }

  void TearDown() override {
    if (db_.empty()) return;
    Admin("ALTER DATABASE " + db_ + " ALLOW_CONNECTIONS true");
    Admin("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
  }

  // A statement on the maintenance connection (the base DSN's database).
  void Admin(const std::string& sql) {
    pqxx::connection c(base_);
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  }

  // A statement in this test's database, behind the store's back.
  pqxx::result Sql(const std::string& sql) {
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    pqxx::result r = tx.exec(sql);
    tx.commit();
    return r;
  }
  int64_t Count(const std::string& table) {
    return Sql("SELECT count(*) FROM " + table)[0][0].as<int64_t>();
  }
  // Every row of a table as text, for "nothing changed" comparisons.
  std::vector<std::string> Rows(const std::string& table, const std::string& order) {
    std::vector<std::string> out;
    for (const auto& row : Sql("SELECT t::text FROM " + table + " t ORDER BY " + order)) {
      out.push_back(row[0].c_str());
    }
    return out;
  }

  std::unique_ptr<PgStore> OpenStore() {
    auto r = PgStore::Open(dsn_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return nullptr;
    return std::move(r).value();
  }

  // Ends the store's session from outside, as a crash or restart of its backend would,
  // and waits until that backend is gone (and with it any advisory lock).
  void KillSessions() {
    Admin("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = '" + db_ +
          "' AND pid <> pg_backend_pid()");
  }

  // Another process's store cannot take the writer lock: some store of this test holds it.
  void ExpectWriterLockHeld(const std::string& why) {
    auto other = OpenStore();
    ASSERT_NE(other, nullptr);
    const Result<bool> busy = other->TryAcquireWriterLock();
    ASSERT_TRUE(busy.ok());
    EXPECT_FALSE(*busy) << why;
  }

  std::string base_, db_, dsn_;
};

// ---- A ledger scenario written through the store -----------------------------------------

// Drives a real Ledger the way the writer does: BeginBatch, commands, PrepareBatch,
// Append, CommitBatch. Keeps every appended batch.
struct Scenario {
  Ledger ledger;
  std::vector<SealedBatch> sealed;
  uint64_t next_request = 1;
  uint64_t clock_ns = 1'000'000'000;
  BankId a, b;
  CurrencyId brl, palma, sol, feira;
  CircleId circle;
  MemberId ana, bia, caio;
  AccountId ana_palma, bia_sol, caio_palma, ana_feira, caio_feira;

  RequestId Next() { return RequestId::FromParts(0xB5, next_request++); }
  static uint64_t Must(const OpResult& r) {
    EXPECT_TRUE(r.ok()) << OutcomeName(r.outcome) << " " << r.detail;
    return r.id;
  }

  // Runs `commands` in one batch and makes it durable in `store`.
  template <typename F>
  void Batch(Store& store, F&& commands) {
    ledger.BeginBatch(clock_ns += 1000);
    commands();
    SealedBatch b = ledger.PrepareBatch();
    const AppendResult r = store.Append(b, ledger);
    ASSERT_EQ(r.outcome, AppendOutcome::kCommitted) << r.status.ToString();
    ledger.CommitBatch();
    sealed.push_back(std::move(b));
  }

  // The memo holds what an array literal would have to escape (quotes, braces, commas,
  // backslash, tab, newline, carriage return) and UTF-8: Append sends it byte for byte.
  static constexpr const char* kTrickyMemo =
      "depósito\tcaixa 3\nlinha 2 \\ fim\r ☀ \"aspas\", {chaves}, NULL";

  void Setup(Store& store) {
    Batch(store, [&] {
      brl = CurrencyId(Must(ledger.InitDeployment({Next(), "BRL", 100})));
      a = BankId(Must(ledger.CreateBank({Next(), "A", "Banco Palmas"})));
      b = BankId(Must(ledger.CreateBank({Next(), "B", "Banco Sol"})));
      palma = CurrencyId(Must(ledger.CreateCurrency({Next(), a, "PALMA"})));
      sol = CurrencyId(Must(ledger.CreateCurrency({Next(), b, "SOL"})));
      circle = CircleId(Must(ledger.CreateCircle(
          {Next(), a, "FEIRA", "Feira solidária", 100, Amount(5000), Amount::Max()})));
      feira = ledger.FindCircle(circle)->currency;
      ana = MemberId(Must(ledger.CreateMember({Next(), a, "Ana"})));
      bia = MemberId(Must(ledger.CreateMember({Next(), b, "Bia"})));
      caio = MemberId(Must(ledger.CreateMember({Next(), a, "Caio"})));
      Must(ledger.AddCircleMember({Next(), circle, ana, true}));
      Must(ledger.AddCircleMember({Next(), circle, caio, false}));
      ana_palma = AccountId(Must(ledger.OpenAccount({Next(), ana, palma})));
      bia_sol = AccountId(Must(ledger.OpenAccount({Next(), bia, sol})));
      caio_palma =
          AccountId(Must(ledger.OpenAccount({Next(), caio, palma, AccountKind::kMerchant})));
      ana_feira = AccountId(Must(ledger.OpenAccount({Next(), ana, feira})));
      caio_feira = AccountId(Must(ledger.OpenAccount({Next(), caio, feira})));
    });
  }

  // A day: deposits, payments within and across banks, mutual credit, a redemption with
  // fee, reserve funding and a distribution, a clearing cycle, account administration.
  void Day(Store& store) {
    Batch(store, [&] {
      Must(ledger.Issue({Next(), ana_palma, Amount(10000), kTrickyMemo}));
      Must(ledger.Issue({Next(), bia_sol, Amount(5000)}));
    });
    Batch(store, [&] {
      Must(ledger.Pay({Next(), ana_palma, bia_sol, Amount(3000), "almoço"}));
      Must(ledger.Pay({Next(), ana_palma, caio_palma, Amount(1000)}));
      Must(ledger.Pay({Next(), ana_feira, caio_feira, Amount(2000), "feira"}));
    });
    Batch(store, [&] {
      Must(ledger.Redeem({Next(), bia_sol, Amount(3000)}));
      Must(ledger.FundReserve({Next(), a, Amount(50000), FundSource::kVault, "município"}));
      Must(ledger.Distribute({Next(), caio_palma, Amount(1000), "benefício"}));
    });
    Batch(store, [&] { Must(ledger.RunCycle({Next()})); });
    Batch(store, [&] {
      Must(
          ledger.SetAccountStatus({Next(), caio_feira, AccountStatus::kFrozen, "admin", "review"}));
      Must(ledger.SetAccountLimits(
          {Next(), ana_feira, Amount(8000), Amount(1'000'000), "circle", "vote 12"}));
    });
  }

  std::vector<StoredBatch> Stored() const {
    std::vector<StoredBatch> out;
    for (const SealedBatch& b : sealed) out.push_back({b.sequence, b.bytes, b.hash});
    return out;
  }
};

std::string Describe(const std::vector<AccountDiff>& diffs) {
  std::string s;
  for (const AccountDiff& d : diffs) s += "#" + std::to_string(d.id.value()) + " " + d.what + "\n";
  return s;
}

// ---- Migrations -----------------------------------------------------------------------------

TEST_F(PgStoreTest, MigrationsApplyOnceAndOpenIsIdempotent) {
  const int latest = static_cast<int>(Migrations().size());
  ASSERT_GE(latest, 1);
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    const Result<int> v = store->SchemaVersion();
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(*v, latest);
  }
  for (const char* table : {"batches", "transfers", "accounts"}) {
    EXPECT_EQ(Count(table), 0) << table;
  }
  // Opening again applies nothing and keeps the bookkeeping rows.
  const auto before = Rows("schema_migrations", "version");
  ASSERT_EQ(before.size(), static_cast<size_t>(latest));
  auto again = OpenStore();
  ASSERT_NE(again, nullptr);
  auto second = OpenStore();  // two stores on one database at once
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(Rows("schema_migrations", "version"), before);
}

TEST_F(PgStoreTest, OpenRefusesASchemaNewerThanTheBinary) {
  ASSERT_NE(OpenStore(), nullptr);
  const int newer = static_cast<int>(Migrations().size()) + 1;
  Sql("INSERT INTO schema_migrations (version) VALUES (" + std::to_string(newer) + ")");
  const auto r = PgStore::Open(dsn_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
}

TEST_F(PgStoreTest, OpenRefusesAGapInTheAppliedVersions) {
  ASSERT_NE(OpenStore(), nullptr);
  Sql("DELETE FROM schema_migrations WHERE version = 1");
  Sql("INSERT INTO schema_migrations (version) VALUES (2) ON CONFLICT DO NOTHING");
  const auto r = PgStore::Open(dsn_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
}

// Rows written before 0003 get their order in the batch and both balances-after.
TEST_F(PgStoreTest, Migration3BackfillsOrderAndBalancesOfOlderTransfers) {
  const std::span<const Migration> all = Migrations();
  ASSERT_GE(all.size(), 3u);
  Sql("CREATE TABLE schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT "
      "NULL DEFAULT now())");
  for (int v = 1; v <= 2; ++v) {
    Sql(all[static_cast<size_t>(v - 1)].sql);
    Sql("INSERT INTO schema_migrations (version) VALUES (" + std::to_string(v) + ")");
  }
  // Account 1 pays 2 then 3 to account 2 in batch 1 (legs of one request), and receives 4
  // in batch 2.
  auto row = [&](int id, int leg, int debit, int credit, int amount, int batch, int time) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", id);
    const std::string bytes = "'\\x" + std::string(30, '0') + hex + "'";
    Sql("INSERT INTO transfers (id, request_id, leg, debit, credit, currency, amount, code, "
        "timestamp_ns, memo, batch) VALUES (" + bytes + ", " + bytes + ", " +
        std::to_string(leg) + ", " + std::to_string(debit) + ", " + std::to_string(credit) +
        ", 1, " + std::to_string(amount) + ", 1, " + std::to_string(time) + ", '', " +
        std::to_string(batch) + ")");
  };
  row(1, 0, 1, 2, 2, 1, 100);
  row(1 + 16, 1, 1, 2, 3, 1, 100);
  row(3, 0, 2, 1, 4, 2, 200);
  ASSERT_NE(OpenStore(), nullptr);  // applies 0003
  pqxx::connection c(dsn_);
  pqxx::nontransaction tx(c);
  const pqxx::result r = tx.exec(
      "SELECT batch, ord, debit_balance_after, credit_balance_after FROM transfers "
      "ORDER BY batch, ord");
  ASSERT_EQ(r.size(), 3u);
  const int64_t expected[3][4] = {{1, 0, -2, 2}, {1, 1, -5, 5}, {2, 0, 1, -1}};
  for (size_t i = 0; i < 3; ++i) {
    for (int j = 0; j < 4; ++j) {
      EXPECT_EQ(r[static_cast<int>(i)][j].as<int64_t>(), expected[i][j]) << i << "," << j;
    }
  }
}

// ---- Append / LoadJournal round trip -------------------------------------------------------

TEST_F(PgStoreTest, AppendedBatchesLoadBackByteIdenticalAndReplayClean) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Scenario s;
  ASSERT_NO_FATAL_FAILURE(s.Setup(*store));
  ASSERT_NO_FATAL_FAILURE(s.Day(*store));
  ASSERT_EQ(s.sealed.size(), 6u);

  const Result<uint64_t> last = store->LastSequence();
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(*last, s.sealed.size());

  const Result<std::vector<StoredBatch>> loaded = store->LoadJournal();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const std::vector<StoredBatch> expected = s.Stored();
  ASSERT_EQ(loaded->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*loaded)[i].sequence, expected[i].sequence) << "batch " << i + 1;
    EXPECT_EQ((*loaded)[i].bytes, expected[i].bytes) << "batch " << i + 1;
    EXPECT_EQ((*loaded)[i].hash, expected[i].hash) << "batch " << i + 1;
  }

  // The journal read back replays clean and agrees with the ledger, balance by balance.
  const Replay replay = ReplayJournal(*loaded);
  EXPECT_TRUE(replay.ok()) << (replay.faults.empty() ? "" : replay.faults[0].detail);
  EXPECT_EQ(replay.head, s.ledger.head());
  const auto faults = CheckJournal(s.ledger, *loaded);
  EXPECT_TRUE(faults.empty()) << FormatFaults(faults);
  const auto inv = CheckInvariants(s.ledger);
  EXPECT_TRUE(inv.empty()) << FormatFaults(inv);

  // Account rows are the ledger's accounts, every field.
  EXPECT_EQ(Count("accounts"), static_cast<int64_t>(s.ledger.account_count()));
  const auto diffs = store->VerifyAccountsAgainst(s.ledger);
  ASSERT_TRUE(diffs.ok()) << diffs.status().ToString();
  EXPECT_TRUE(diffs->empty()) << Describe(*diffs);
  const auto ana =
      Sql("SELECT balance, debits_posted, credits_posted, status, kind, last_batch "
          "FROM accounts WHERE id = " +
          std::to_string(s.ana_palma.value()));
  ASSERT_EQ(ana.size(), 1u);
  const Account& a = *s.ledger.FindAccount(s.ana_palma);
  EXPECT_EQ(ana[0][0].as<int64_t>(), a.balance.minor());
  EXPECT_EQ(ana[0][1].as<int64_t>(), a.debits_posted.minor());
  EXPECT_EQ(ana[0][2].as<int64_t>(), a.credits_posted.minor());
  EXPECT_EQ(ana[0][5].as<int64_t>(), 3);  // last paid from in batch 3

  // Transfer rows: one per posted transfer, every field, the memo exactly; the position
  // in the batch and each side's balance right after it, against balances walked here
  // from zero (every account starts empty; mutual credit takes some below zero).
  size_t transfers = 0;
  for (const SealedBatch& b : s.sealed) transfers += b.transfers.size();
  ASSERT_GT(transfers, 0u);
  EXPECT_EQ(Count("transfers"), static_cast<int64_t>(transfers));
  std::map<uint64_t, int64_t> balance;
  bool below_zero = false;
  for (const SealedBatch& b : s.sealed) {
    for (size_t i = 0; i < b.transfers.size(); ++i) {
      const Transfer& t = b.transfers[i];
      const int64_t debit_after = balance[t.debit.value()] -= t.amount.minor();
      const int64_t credit_after = balance[t.credit.value()] += t.amount.minor();
      below_zero = below_zero || debit_after < 0;
      const auto row =
          Sql("SELECT encode(request_id, 'hex'), leg, debit, credit, currency, amount, code, "
              "timestamp_ns, memo, batch, ord, debit_balance_after, credit_balance_after "
              "FROM transfers WHERE id = '\\x" +
              t.id.ToHex() + "'");
      ASSERT_EQ(row.size(), 1u) << t.id.ToHex();
      EXPECT_EQ(row[0][0].as<std::string>(), t.request.ToHex());
      EXPECT_EQ(row[0][1].as<int64_t>(), t.leg);
      EXPECT_EQ(row[0][2].as<uint64_t>(), t.debit.value());
      EXPECT_EQ(row[0][3].as<uint64_t>(), t.credit.value());
      EXPECT_EQ(row[0][4].as<uint64_t>(), t.currency.value());
      EXPECT_EQ(row[0][5].as<int64_t>(), t.amount.minor());
      EXPECT_EQ(row[0][6].as<int>(), static_cast<int>(t.code));
      EXPECT_EQ(row[0][7].as<uint64_t>(), t.timestamp_ns);
      EXPECT_EQ(row[0][8].as<std::string>(), t.memo);
      EXPECT_EQ(row[0][9].as<uint64_t>(), b.sequence);
      EXPECT_EQ(row[0][10].as<size_t>(), i);
      EXPECT_EQ(row[0][11].as<int64_t>(), debit_after) << t.id.ToHex();
      EXPECT_EQ(row[0][12].as<int64_t>(), credit_after) << t.id.ToHex();
    }
  }
  EXPECT_TRUE(below_zero);  // negative balances went through too
  EXPECT_EQ(Sql("SELECT count(*) FROM transfers WHERE memo = '" +
                pqxx::connection(dsn_).esc(Scenario::kTrickyMemo) + "'")[0][0]
                .as<int64_t>(),
            2);  // the two legs of the deposit

  // A ledger rebuilt from what the store returns equals the original.
  Ledger restored;
  const Status rs = restored.Restore(*loaded);
  ASSERT_TRUE(rs.ok()) << rs.ToString();
  EXPECT_EQ(restored.head(), s.ledger.head());
  EXPECT_EQ(restored.batch_sequence(), s.ledger.batch_sequence());
  ASSERT_EQ(restored.account_count(), s.ledger.account_count());
  for (const Account& x : s.ledger.accounts()) {
    const Account* y = restored.FindAccount(x.id);
    ASSERT_NE(y, nullptr) << x.id.value();
    EXPECT_EQ(y->balance.minor(), x.balance.minor()) << x.id.value();
    EXPECT_EQ(y->status, x.status) << x.id.value();
    EXPECT_EQ(y->credit_limit.minor(), x.credit_limit.minor()) << x.id.value();
  }
  const auto restored_diffs = store->VerifyAccountsAgainst(restored);
  ASSERT_TRUE(restored_diffs.ok());
  EXPECT_TRUE(restored_diffs->empty()) << Describe(*restored_diffs);

  // And the restored ledger continues the chain in the same store.
  Scenario next;
  next.next_request = 1000;
  ASSERT_TRUE(next.ledger.Restore(*loaded).ok());  // a second copy, for the helper
  next.a = s.a;
  next.ana_palma = s.ana_palma;
  next.caio_palma = s.caio_palma;
  next.clock_ns = s.clock_ns;
  ASSERT_NO_FATAL_FAILURE(next.Batch(*store, [&] {
    Scenario::Must(next.ledger.Pay({next.Next(), s.ana_palma, s.caio_palma, Amount(100)}));
  }));
  const Result<uint64_t> after = store->LastSequence();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, s.sealed.size() + 1);
}

TEST_F(PgStoreTest, LoadJournalOfAnEmptyDatabaseIsEmpty) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const auto j = store->LoadJournal();
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_TRUE(j->empty());
  const auto last = store->LastSequence();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 0u);
}

TEST_F(PgStoreTest, LoadJournalReportsABrokenChainAsDataLoss) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Scenario s;
  ASSERT_NO_FATAL_FAILURE(s.Setup(*store));
  ASSERT_NO_FATAL_FAILURE(s.Day(*store));

  // An altered hash: the next row's prev_hash no longer chains.
  Sql("UPDATE batches SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1) WHERE sequence = 3");
  auto j = store->LoadJournal();
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(j.status().message().find("row 4"), std::string::npos) << j.status().ToString();
  Sql("UPDATE batches SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1) WHERE sequence = 3");

  // One altered journal byte loads (the row's own hash is for Restore to check), and the
  // replay names the batch.
  Sql("UPDATE batches SET bytes = set_byte(bytes, length(bytes) - 1, "
      "get_byte(bytes, length(bytes) - 1) # 1) WHERE sequence = 2");
  j = store->LoadJournal();
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  const Replay replay = ReplayJournal(*j);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.faults[0].kind, JournalFaultKind::kHashMismatch);
  EXPECT_EQ(replay.faults[0].batch, 2u);

  // A gap: batch 5 missing.
  Sql("DELETE FROM batches WHERE sequence = 5");
  j = store->LoadJournal();
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kDataLoss);
}

// ---- Refusals: nothing written -------------------------------------------------------------

struct Snapshot {
  std::vector<std::string> batches, transfers, accounts;
  bool operator==(const Snapshot&) const = default;
};

TEST_F(PgStoreTest, ABatchThatDoesNotContinueTheChainIsRefusedAndWritesNothing) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Scenario s;
  ASSERT_NO_FATAL_FAILURE(s.Setup(*store));
  ASSERT_NO_FATAL_FAILURE(s.Day(*store));
  auto snap = [&] {
    return Snapshot{Rows("batches", "sequence"), Rows("transfers", "id"), Rows("accounts", "id")};
  };
  const Snapshot before = snap();

  s.ledger.BeginBatch(s.clock_ns += 1000);
  Scenario::Must(s.ledger.Pay({s.Next(), s.ana_palma, s.caio_palma, Amount(500)}));
  const SealedBatch good = s.ledger.PrepareBatch();

  struct Case {
    const char* name;
    SealedBatch batch;
    StatusCode code;
    std::string says = "";  // the message, when the store's own check refused it
  };
  std::vector<Case> cases;
  {
    SealedBatch b = good;
    b.sequence += 1;  // skips one
    cases.push_back({"sequence gap", b, StatusCode::kFailedPrecondition,
                     "append batch " + std::to_string(b.sequence) +
                         ": the database's last batch is " + std::to_string(good.sequence - 1) +
                         ", so the next must be " + std::to_string(good.sequence)});
  }
  {
    SealedBatch b = good;
    b.sequence -= 1;  // rewrites the last
    cases.push_back({"sequence repeated", b, StatusCode::kFailedPrecondition});
  }
  {
    SealedBatch b = s.sealed.front();  // batch 1 again, as a stale writer would
    cases.push_back({"stale writer", b, StatusCode::kFailedPrecondition});
  }
  {
    SealedBatch b = good;
    b.prev_hash[5] ^= 1;  // forks the chain
    cases.push_back({"prev_hash mismatch", b, StatusCode::kFailedPrecondition,
                     "append batch " + std::to_string(b.sequence) +
                         ": prev_hash is not the stored hash of batch " +
                         std::to_string(good.sequence - 1)});
  }
  {
    // A row PostgreSQL refuses (CHECK amount > 0) after the batch row was inserted: the
    // whole transaction rolls back.
    SealedBatch b = good;
    b.transfers.front().amount = Amount(0);
    cases.push_back({"row refused mid-transaction", b, StatusCode::kInternal});
  }
  for (const Case& c : cases) {
    const AppendResult r = store->Append(c.batch, s.ledger);
    EXPECT_EQ(r.outcome, AppendOutcome::kNotCommitted) << c.name;
    EXPECT_EQ(r.status.code(), c.code) << c.name << ": " << r.status.ToString();
    EXPECT_FALSE(r.status.message().empty()) << c.name;
    if (!c.says.empty()) {
      EXPECT_EQ(r.status.message(), c.says) << c.name;
    }
    EXPECT_TRUE(snap() == before) << c.name << ": something was written";
  }

  // The store is still usable, and the right batch then commits.
  const AppendResult ok = store->Append(good, s.ledger);
  EXPECT_EQ(ok.outcome, AppendOutcome::kCommitted) << ok.status.ToString();
  s.ledger.CommitBatch();
  const auto diffs = store->VerifyAccountsAgainst(s.ledger);
  ASSERT_TRUE(diffs.ok());
  EXPECT_TRUE(diffs->empty()) << Describe(*diffs);
}

// Account rows changed behind the writer's back: Append refuses the batch (AY003) and
// writes nothing, whichever way the row was changed.
class PgStoreTamperTest : public PgStoreTest {
 protected:
  void ExpectTamperedAccountRollsTheBatchBack(const std::string& tamper_sql) {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    Scenario s;
    ASSERT_NO_FATAL_FAILURE(s.Setup(*store));
    Sql(tamper_sql + std::to_string(s.ana_palma.value()));
    const auto batches = Rows("batches", "sequence");
    const auto accounts = Rows("accounts", "id");
    s.ledger.BeginBatch(s.clock_ns += 1000);
    Scenario::Must(s.ledger.Issue({s.Next(), s.ana_palma, Amount(100)}));
    const SealedBatch b = s.ledger.PrepareBatch();
    const AppendResult r = store->Append(b, s.ledger);
    EXPECT_EQ(r.outcome, AppendOutcome::kNotCommitted);
    EXPECT_EQ(r.status.code(), StatusCode::kInternal) << r.status.ToString();
    EXPECT_NE(r.status.message().find("changed identity or were written by a later batch"),
              std::string::npos)
        << r.status.ToString();
    EXPECT_EQ(Rows("batches", "sequence"), batches);
    EXPECT_EQ(Rows("accounts", "id"), accounts);
    EXPECT_EQ(Count("transfers"), 0);
    s.ledger.AbortBatch();
  }
};

TEST_F(PgStoreTamperTest, AnAccountRowThatChangedIdentityRollsTheBatchBack) {
  // The row claims another owner.
  ExpectTamperedAccountRollsTheBatchBack("UPDATE accounts SET owner = owner + 100 WHERE id = ");
}

TEST_F(PgStoreTamperTest, AnAccountRowWrittenByALaterBatchRollsTheBatchBack) {
  // The row says a batch after the one being written already wrote it.
  ExpectTamperedAccountRollsTheBatchBack("UPDATE accounts SET last_batch = 1000 WHERE id = ");
}

TEST_F(PgStoreTest, ABatchThatOpensAccountsAndPaysIntoThemWritesEveryRow) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Scenario s;
  ASSERT_NO_FATAL_FAILURE(s.Setup(*store));
  ASSERT_NO_FATAL_FAILURE(s.Day(*store));
  const int64_t before = Count("accounts");
  // Existing rows to update and new ones to insert, in one batch.
  AccountId dora;
  ASSERT_NO_FATAL_FAILURE(s.Batch(*store, [&] {
    const MemberId m = MemberId(Scenario::Must(s.ledger.CreateMember({s.Next(), s.a, "Dora"})));
    dora = AccountId(Scenario::Must(s.ledger.OpenAccount({s.Next(), m, s.palma})));
    Scenario::Must(s.ledger.Pay({s.Next(), s.ana_palma, dora, Amount(700)}));
  }));
  EXPECT_GT(Count("accounts"), before);
  EXPECT_EQ(Count("accounts"), static_cast<int64_t>(s.ledger.account_count()));
  const auto diffs = store->VerifyAccountsAgainst(s.ledger);
  ASSERT_TRUE(diffs.ok()) << diffs.status().ToString();
  EXPECT_TRUE(diffs->empty()) << Describe(*diffs);
  EXPECT_EQ(Sql("SELECT balance FROM accounts WHERE id = " + std::to_string(dora.value()))[0][0]
                .as<int64_t>(),
            700);
  EXPECT_EQ(
      Sql("SELECT last_batch FROM accounts WHERE id = " + std::to_string(s.ana_palma.value()))[0][0]
          .as<uint64_t>(),
      s.sealed.back().sequence);
}

// ---- Verify accounts -----------------------------------------------------------------------

TEST_F(PgStoreTest, VerifyAccountsNamesRowsChangedBehindTheWritersBack) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Scenario s;
  ASSERT_NO_FATAL_FAILURE(s.Setup(*store));
  ASSERT_NO_FATAL_FAILURE(s.Day(*store));
  auto clean = store->VerifyAccountsAgainst(s.ledger);
  ASSERT_TRUE(clean.ok());
  ASSERT_TRUE(clean->empty()) << Describe(*clean);

  Sql("UPDATE accounts SET balance = balance + 1 WHERE id = " + std::to_string(s.bia_sol.value()));
  auto diffs = store->VerifyAccountsAgainst(s.ledger);
  ASSERT_TRUE(diffs.ok()) << diffs.status().ToString();
  ASSERT_EQ(diffs->size(), 1u) << Describe(*diffs);
  EXPECT_EQ((*diffs)[0].id, s.bia_sol);
  EXPECT_NE((*diffs)[0].what.find("balance"), std::string::npos) << (*diffs)[0].what;

  Sql("UPDATE accounts SET status = 0 WHERE id = " + std::to_string(s.caio_feira.value()));
  Sql("DELETE FROM accounts WHERE id = " + std::to_string(s.ana_feira.value()));
  Sql("INSERT INTO accounts SELECT id + 1000, bank, currency, kind, owner, counterparty, "
      "status, credit_limit, ceiling, balance, debits_posted, credits_posted, last_batch "
      "FROM accounts WHERE id = 1");
  diffs = store->VerifyAccountsAgainst(s.ledger);
  ASSERT_TRUE(diffs.ok()) << diffs.status().ToString();
  ASSERT_EQ(diffs->size(), 4u) << Describe(*diffs);
  auto find = [&](AccountId id) -> std::string {
    for (const AccountDiff& d : *diffs) {
      if (d.id == id) return d.what;
    }
    return "";
  };
  EXPECT_NE(find(s.caio_feira).find("status"), std::string::npos);
  EXPECT_EQ(find(s.ana_feira), "missing in database");
  EXPECT_EQ(find(AccountId(1001)), "missing in ledger");
}

// ---- Writer lock ---------------------------------------------------------------------------

TEST_F(PgStoreTest, OnlyOneStoreHoldsTheWriterLockAndAStandbyTakesOver) {
  auto first = OpenStore();
  auto second = OpenStore();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->AcquireWriterLock().ok());
  EXPECT_TRUE(first->holds_writer_lock());
  EXPECT_TRUE(first->AcquireWriterLock().ok());  // already held: no-op

  const Result<bool> busy = second->TryAcquireWriterLock();
  ASSERT_TRUE(busy.ok()) << busy.status().ToString();
  EXPECT_FALSE(*busy);
  EXPECT_FALSE(second->holds_writer_lock());

  // A standby blocks in AcquireWriterLock until the writer's session ends.
  auto standby = std::async(std::launch::async, [&] { return second->AcquireWriterLock(); });
  EXPECT_EQ(standby.wait_for(milliseconds(300)), std::future_status::timeout)
      << "the standby got the lock while the writer held it";
  first.reset();  // the writer goes away: PostgreSQL ends its session and frees the lock
  ASSERT_EQ(standby.wait_for(seconds(30)), std::future_status::ready);
  const Status got = standby.get();
  EXPECT_TRUE(got.ok()) << got.ToString();
  EXPECT_TRUE(second->holds_writer_lock());

  auto third = OpenStore();
  ASSERT_NE(third, nullptr);
  const Result<bool> again = third->TryAcquireWriterLock();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  second.reset();
  // Once the holder disconnects, a try succeeds (its backend exits asynchronously).
  bool acquired = false;
  for (int i = 0; i < 1000 && !acquired; ++i) {
    const Result<bool> r = third->TryAcquireWriterLock();
    ASSERT_TRUE(r.ok());
    acquired = *r;
    if (!acquired) std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(acquired);
}

// ---- Unavailability and recovery -----------------------------------------------------------

TEST_F(PgStoreTest, OpenOnAnUnreachableServerIsUnavailable) {
  const auto r = PgStore::Open(
      "host=/nonexistent/ayni-socket-dir port=5432 dbname=ayni "
      "user=postgres connect_timeout=5");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

TEST_F(PgStoreTest, AppendWhileTheDatabaseIsDownIsUnavailableThenRecovers) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->AcquireWriterLock().ok());
  Scenario s;
  ASSERT_NO_FATAL_FAILURE(s.Setup(*store));

  // The database goes away under the store: its session is killed and no new one is let
  // in (as while PostgreSQL restarts).
  Admin("ALTER DATABASE " + db_ + " ALLOW_CONNECTIONS false");
  KillSessions();
  s.ledger.BeginBatch(s.clock_ns += 1000);
  Scenario::Must(s.ledger.Issue({s.Next(), s.ana_palma, Amount(700)}));
  const SealedBatch b = s.ledger.PrepareBatch();
  for (int attempt = 0; attempt < 2; ++attempt) {  // the broken session, then no session
    const AppendResult r = store->Append(b, s.ledger);
    EXPECT_EQ(r.outcome, AppendOutcome::kNotCommitted) << attempt;
    EXPECT_EQ(r.status.code(), StatusCode::kUnavailable) << attempt << ": " << r.status.ToString();
  }
  const Result<uint64_t> down = store->LastSequence();
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);

  // Back up: the same store reconnects, takes its writer lock back, and writes.
  Admin("ALTER DATABASE " + db_ + " ALLOW_CONNECTIONS true");
  const AppendResult r = store->Append(b, s.ledger);
  ASSERT_EQ(r.outcome, AppendOutcome::kCommitted) << r.status.ToString();
  s.ledger.CommitBatch();
  EXPECT_TRUE(store->holds_writer_lock());
  ASSERT_NO_FATAL_FAILURE(
      ExpectWriterLockHeld("the reconnected writer did not take its lock back"));
  const auto diffs = store->VerifyAccountsAgainst(s.ledger);
  ASSERT_TRUE(diffs.ok());
  EXPECT_TRUE(diffs->empty()) << Describe(*diffs);
}

// The session ends while the store sits between batches (PostgreSQL restarted, an idle
// timeout): Append finds it closed before sending anything, reconnects, re-takes its
// writer lock and writes the batch.
TEST_F(PgStoreTest, ASessionClosedWhileIdleIsReopenedBeforeTheCall) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->AcquireWriterLock().ok());
  Scenario s;
  ASSERT_NO_FATAL_FAILURE(s.Setup(*store));
  KillSessions();
  ASSERT_NO_FATAL_FAILURE(s.Batch(*store, [&] {
    Scenario::Must(s.ledger.Issue({s.Next(), s.ana_palma, Amount(700)}));
  }));
  EXPECT_EQ(Count("batches"), 2);
  EXPECT_TRUE(store->holds_writer_lock());
  ASSERT_NO_FATAL_FAILURE(
      ExpectWriterLockHeld("the reopened session does not hold the writer lock"));
}

// The session ends while the call is out: it may have committed, so the outcome is
// unknown (never "not committed"), and reading the head settles it. Here the call waits
// on a row another session holds, so it is certainly out when its backend is ended.
TEST_F(PgStoreTest, ASessionLostWhileTheCallIsOutIsUnknownAndReadingSettlesIt) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->AcquireWriterLock().ok());
  Scenario s;
  ASSERT_NO_FATAL_FAILURE(s.Setup(*store));
  const std::vector<std::string> accounts_before = Rows("accounts", "id");

  pqxx::connection blocker_conn(dsn_);
  pqxx::work blocker(blocker_conn);
  blocker.exec("SELECT 1 FROM accounts WHERE id = " + std::to_string(s.ana_palma.value()) +
               " FOR UPDATE");
  s.ledger.BeginBatch(s.clock_ns += 1000);
  Scenario::Must(s.ledger.Issue({s.Next(), s.ana_palma, Amount(700)}));
  const SealedBatch b = s.ledger.PrepareBatch();
  auto appended = std::async(std::launch::async, [&] { return store->Append(b, s.ledger); });
  // Until the store's backend waits for the row lock, then end that backend.
  // (Two statements: in one, PostgreSQL may call pg_terminate_backend before the filter.)
  bool ended = false;
  {
    pqxx::connection c(base_);
    pqxx::nontransaction tx(c);
    for (int i = 0; i < 500 && !ended; ++i) {
      const pqxx::result waiting = tx.exec("SELECT pid FROM pg_stat_activity WHERE datname = '" +
                                           db_ + "' AND wait_event_type = 'Lock'");
      if (waiting.size() == 1) {
        ended = tx.exec("SELECT pg_terminate_backend(" + waiting[0][0].as<std::string>() +
                        ", 10000)")[0][0]
                    .as<bool>();
      } else {
        std::this_thread::sleep_for(milliseconds(10));
      }
    }
  }
  ASSERT_TRUE(ended) << "the store's call never waited for the row";
  ASSERT_EQ(appended.wait_for(seconds(30)), std::future_status::ready);
  const AppendResult r = appended.get();
  EXPECT_EQ(r.outcome, AppendOutcome::kUnknown) << r.status.ToString();
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable) << r.status.ToString();
  blocker.abort();

  // Resolved by reading: the head is still the batch before, so it did not commit.
  const Result<StoreHead> head = store->LastBatch();
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->sequence, b.sequence - 1);
  EXPECT_EQ(head->hash, b.prev_hash);
  EXPECT_EQ(Count("batches"), 1);
  EXPECT_EQ(Rows("accounts", "id"), accounts_before);
  EXPECT_TRUE(store->holds_writer_lock());
  // The same batch, appended again once that is known, commits.
  const AppendResult again = store->Append(b, s.ledger);
  ASSERT_EQ(again.outcome, AppendOutcome::kCommitted) << again.status.ToString();
  s.ledger.CommitBatch();
  EXPECT_EQ(Count("batches"), 2);
}

TEST_F(PgStoreTest, AWriterWhoseLockWasTakenOverNeverWritesAgain) {
  auto writer = OpenStore();
  auto standby = OpenStore();
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(standby, nullptr);
  ASSERT_TRUE(writer->AcquireWriterLock().ok());
  Scenario s;
  ASSERT_NO_FATAL_FAILURE(s.Setup(*writer));

  // The writer's session dies (network blip); the standby takes over before it is back.
  Admin("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = '" + db_ +
        "' AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory')");
  const Status took = standby->AcquireWriterLock();
  ASSERT_TRUE(took.ok()) << took.ToString();

  s.ledger.BeginBatch(s.clock_ns += 1000);
  Scenario::Must(s.ledger.Issue({s.Next(), s.ana_palma, Amount(100)}));
  const SealedBatch b = s.ledger.PrepareBatch();
  for (int attempt = 0; attempt < 3; ++attempt) {
    const AppendResult r = writer->Append(b, s.ledger);
    EXPECT_EQ(r.outcome, AppendOutcome::kNotCommitted) << attempt;
    EXPECT_NE(r.status.code(), StatusCode::kOk) << attempt;
  }
  const AppendResult last = writer->Append(b, s.ledger);
  EXPECT_EQ(last.status.code(), StatusCode::kFailedPrecondition) << last.status.ToString();
  EXPECT_EQ(Count("batches"), 1);
  s.ledger.AbortBatch();
}

}  // namespace
}  // namespace ayni::server
