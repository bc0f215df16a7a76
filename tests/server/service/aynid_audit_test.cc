// Statements and audits through a real aynid on a real PostgreSQL: statement paging,
// windows and refusals; the signed reserve audit and signed cycle reports; VerifyJournal
// and `ayni audit journal` naming the fault when the database is changed behind the
// server's back (a balance, one journal byte).
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "server/api/signature.h"
#include "tests/server/service/aynid_harness.h"

namespace {

using namespace ayni;
using namespace ayni::test_support;

class AuditTest : public AynidFixture {
 protected:
  void SetUp() override {
    AynidFixture::SetUp();
    clearing_key_ = dir_ + "/clearing.key";
  }
  void TearDown() override {
    ::unlink(clearing_key_.c_str());
    for (const char* f : {"/cli.out", "/cli.err"}) ::unlink((dir_ + f).c_str());
    AynidFixture::TearDown();
  }
  std::unique_ptr<Aynid> Start() {
    auto a = std::make_unique<Aynid>(dsn_, key_file_,
                                     std::vector<std::string>{"--clearing-key-file", clearing_key_});
    addr_ = a->WaitListening();
    EXPECT_FALSE(addr_.empty());
    return a;
  }
  void Sql(const std::string& sql) {
    pqxx::connection c(dsn_);
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  }
  // `ayni audit journal` against the running server: exit code and stderr.
  std::pair<int, std::string> CliAuditJournal() {
    const std::string out = dir_ + "/cli.out", err = dir_ + "/cli.err";
    const std::string cmd = std::string(AYNI_CLI_PATH) + " --server " + addr_ + " --key-file " +
                            key_file_ + " audit journal >" + out + " 2>" + err;
    const int st = std::system(cmd.c_str());
    std::ifstream f(err);
    std::stringstream ss;
    ss << f.rdbuf();
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, ss.str()};
  }
  v1::VerifyJournalReply Verify(Client& c, bool memory_only = false) {
    v1::VerifyJournalRequest q;
    q.set_memory_only(memory_only);
    v1::VerifyJournalReply rep;
    AYNI_EXPECT_OK(RPC(c, audit, VerifyJournal, q, rep));
    return rep;
  }
  std::string clearing_key_, addr_;
};

v1::PayReply Pay(Client& c, uint64_t from, uint64_t to, int64_t amount) {
  v1::PayRequest q;
  q.set_request_id(NewId());
  q.set_from_account_id(from);
  q.set_to_account_id(to);
  q.set_amount_minor(amount);
  q.set_memo("p" + std::to_string(amount));
  v1::PayReply rep;
  AYNI_EXPECT_OK(RPC(c, ledger, Pay, q, rep));
  EXPECT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
  return rep;
}

std::string MemberKey(Client& admin, uint64_t account) {
  v1::CreateApiKeyRequest q;
  q.set_request_id(NewId());
  q.set_role(v1::ROLE_MEMBER);
  q.mutable_scope()->set_kind(v1::SCOPE_KIND_ACCOUNT);
  q.mutable_scope()->set_id(account);
  q.set_label("member");
  v1::CreateApiKeyReply rep;
  AYNI_EXPECT_OK(RPC(admin, setup, CreateApiKey, q, rep));
  return rep.token();
}

TEST_F(AuditTest, StatementPagesThroughTheHistoryWithBalancesAfterEachTransfer) {
  auto server = Start();
  Client admin(addr_, ReadKey());
  const SmallNetwork n = BuildNetwork(admin, 2, 10000);
  const uint64_t me = n.a[0];
  for (int i = 1; i <= 7; ++i) Pay(admin, me, n.a[1], i * 100);
  Pay(admin, n.a[1], me, 50);
  Pay(admin, me, n.b[0], 25);  // cross-bank: one leg on this account
  const int64_t balance = BalanceOf(admin, me);
  ASSERT_EQ(balance, 10000 - 2800 + 50 - 25);

  // Every page of 3, in order; the balances chain from 0 to the account's balance.
  std::vector<v1::StatementEntry> all;
  std::string token;
  int pages = 0;
  do {
    v1::StatementRequest q;
    q.set_account_id(me);
    q.set_page_size(3);
    q.set_page_token(token);
    v1::StatementReply rep;
    ASSERT_TRUE(RPC(admin, ledger, Statement, q, rep).ok());
    EXPECT_LE(rep.entries_size(), 3);
    EXPECT_EQ(rep.account().balance_minor(), balance);
    for (const auto& e : rep.entries()) all.push_back(e);
    token = rep.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  ASSERT_EQ(all.size(), 10u);  // issue, 7 payments out, 1 in, 1 cross-bank
  EXPECT_EQ(pages, 4);
  int64_t running = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    running += all[i].delta_minor();
    EXPECT_EQ(all[i].balance_after_minor(), running) << "entry " << i;
    EXPECT_EQ(all[i].transfer().amount_minor(), std::abs(all[i].delta_minor()));
    if (i > 0) {
      EXPECT_GE(all[i].transfer().batch_sequence(), all[i - 1].transfer().batch_sequence());
    }
  }
  EXPECT_EQ(running, balance);
  EXPECT_EQ(all[0].delta_minor(), 10000);
  EXPECT_EQ(all[0].transfer().code(), v1::TRANSFER_CODE_ISSUE);
  EXPECT_EQ(all[1].delta_minor(), -100);
  EXPECT_EQ(all[1].counterparty_account_id(), n.a[1]);
  EXPECT_EQ(all[1].transfer().memo(), "p100");
  EXPECT_EQ(all[8].delta_minor(), 50);

  // A window on commit time: from the fourth entry's time on.
  {
    v1::StatementRequest q;
    q.set_account_id(me);
    q.set_since_ns(all[3].transfer().timestamp_ns());
    v1::StatementReply rep;
    ASSERT_TRUE(RPC(admin, ledger, Statement, q, rep).ok());
    ASSERT_GE(rep.entries_size(), 1);
    for (const auto& e : rep.entries()) {
      EXPECT_GE(e.transfer().timestamp_ns(), all[3].transfer().timestamp_ns());
    }
    EXPECT_EQ(rep.entries(rep.entries_size() - 1).balance_after_minor(), balance);
  }

  // Refusals: bad page size, window, tokens; unknown account; another member's account.
  auto code = [&](Client& c, const v1::StatementRequest& q) {
    v1::StatementReply rep;
    return RPC(c, ledger, Statement, q, rep).error_code();
  };
  v1::StatementRequest q;
  q.set_account_id(me);
  q.set_page_size(1001);
  EXPECT_EQ(code(admin, q), grpc::StatusCode::INVALID_ARGUMENT);
  q.set_page_size(2);
  q.set_since_ns(10);
  q.set_until_ns(5);
  EXPECT_EQ(code(admin, q), grpc::StatusCode::INVALID_ARGUMENT);
  q.set_since_ns(0);
  q.set_until_ns(0);
  q.set_page_token("s1.999.0.0.1.0");  // another account's token
  EXPECT_EQ(code(admin, q), grpc::StatusCode::INVALID_ARGUMENT);
  q.set_page_token("garbage");
  EXPECT_EQ(code(admin, q), grpc::StatusCode::INVALID_ARGUMENT);
  q.set_page_token("");
  q.set_account_id(0);
  EXPECT_EQ(code(admin, q), grpc::StatusCode::INVALID_ARGUMENT);
  q.set_account_id(99999);
  EXPECT_EQ(code(admin, q), grpc::StatusCode::NOT_FOUND);
  Client member(addr_, MemberKey(admin, n.a[1]));
  q.set_account_id(me);
  EXPECT_EQ(code(member, q), grpc::StatusCode::PERMISSION_DENIED);
  q.set_account_id(n.a[1]);
  EXPECT_EQ(code(member, q), grpc::StatusCode::OK);
}

TEST_F(AuditTest, ReserveAuditAndCycleReportsAreSignedWithThePersistentClearingKey) {
  auto server = Start();
  Client admin(addr_, ReadKey());
  const SmallNetwork n = BuildNetwork(admin, 1, 10000);
  Pay(admin, n.a[0], n.b[0], 1234);

  v1::ReserveAuditReply audit;
  ASSERT_TRUE(RPC(admin, audit, ReserveAudit, v1::ReserveAuditRequest(), audit).ok());
  EXPECT_EQ(audit.verdict(), v1::VERDICT_COVERED);
  ASSERT_EQ(audit.banks_size(), 2);
  EXPECT_EQ(audit.banks(0).coverage().bank_code(), "PALMAS");
  EXPECT_EQ(audit.banks(0).coverage().supply_minor(), 10000 - 1234);
  EXPECT_EQ(audit.banks(0).coverage().payables_minor(), 1234);
  EXPECT_EQ(audit.banks(1).coverage().receivables_minor(), 1234);
  EXPECT_EQ(audit.banks(0).required_min_bp(), 10000);
  EXPECT_GT(audit.head().sequence(), 0u);
  ASSERT_TRUE(server::api::VerifySignature(audit.signature()).ok());
  v1::ReserveAuditReply signed_part;
  ASSERT_TRUE(signed_part.ParseFromString(audit.signature().payload()));
  v1::ReserveAuditReply shown = audit;
  shown.clear_signature();
  EXPECT_EQ(signed_part.SerializeAsString(), shown.SerializeAsString());
  // One byte of the payload changed: the signature no longer verifies.
  v1::Signature forged = audit.signature();
  forged.mutable_payload()->back() ^= 1;
  EXPECT_FALSE(server::api::VerifySignature(forged).ok());

  v1::RunInterbankCycleRequest cq;
  cq.set_request_id(NewId());
  v1::RunInterbankCycleReply cycle;
  ASSERT_TRUE(RPC(admin, clearing, RunInterbankCycle, cq, cycle).ok());
  ASSERT_EQ(cycle.reason(), v1::REASON_OK) << cycle.detail();
  EXPECT_TRUE(server::api::VerifySignature(cycle.report().signature()).ok());
  EXPECT_EQ(cycle.report().signature().public_key(), audit.signature().public_key());

  // A bank-scoped auditor sees its own bank only.
  v1::CreateApiKeyRequest kq;
  kq.set_request_id(NewId());
  kq.set_role(v1::ROLE_AUDITOR);
  kq.mutable_scope()->set_kind(v1::SCOPE_KIND_BANK);
  kq.mutable_scope()->set_id(n.bank_b);
  kq.set_label("auditor B");
  v1::CreateApiKeyReply krep;
  ASSERT_TRUE(RPC(admin, setup, CreateApiKey, kq, krep).ok());
  Client auditor(addr_, krep.token());
  v1::ReserveAuditReply own;
  ASSERT_TRUE(RPC(auditor, audit, ReserveAudit, v1::ReserveAuditRequest(), own).ok());
  ASSERT_EQ(own.banks_size(), 1);
  EXPECT_EQ(own.banks(0).coverage().bank_id(), n.bank_b);
  v1::ReserveAuditRequest other;
  other.set_bank_id(n.bank_a);
  EXPECT_EQ(RPC(auditor, audit, ReserveAudit, other, own).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::VerifyJournalReply vj;
  EXPECT_EQ(RPC(auditor, audit, VerifyJournal, v1::VerifyJournalRequest(), vj).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // The key file survives a restart: the same public key signs.
  const std::string public_key = audit.signature().public_key();
  server->Kill(SIGTERM);
  server = Start();
  Client admin2(addr_, ReadKey());
  ASSERT_TRUE(RPC(admin2, audit, ReserveAudit, v1::ReserveAuditRequest(), audit).ok());
  EXPECT_EQ(audit.signature().public_key(), public_key);
  struct stat st {};
  ASSERT_EQ(::stat(clearing_key_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(AuditTest, VerifyJournalNamesABalanceChangedBehindTheServersBackAndAnAlteredByte) {
  auto server = Start();
  Client admin(addr_, ReadKey());
  const SmallNetwork n = BuildNetwork(admin, 2, 10000);
  Pay(admin, n.a[0], n.a[1], 100);
  Pay(admin, n.a[0], n.b[0], 200);

  v1::VerifyJournalReply clean = Verify(admin);
  EXPECT_TRUE(clean.ok());
  EXPECT_EQ(clean.journal_faults_size(), 0);
  EXPECT_EQ(clean.invariant_faults_size(), 0);
  EXPECT_GT(clean.batches(), 5u);
  EXPECT_EQ(clean.replayed_head().sequence(), clean.server_head().sequence());
  EXPECT_EQ(clean.replayed_head().hash(), clean.server_head().hash());
  EXPECT_EQ(CliAuditJournal().first, 0) << CliAuditJournal().second;

  // A balance changed behind the server's back.
  const std::string id = std::to_string(n.a[0]);
  Sql("UPDATE accounts SET balance = balance + 1 WHERE id = " + id);
  v1::VerifyJournalReply bad = Verify(admin);
  EXPECT_FALSE(bad.ok());
  ASSERT_EQ(bad.journal_faults_size(), 1);
  EXPECT_EQ(bad.journal_faults(0).kind(), v1::JOURNAL_FAULT_BALANCE_MISMATCH);
  EXPECT_EQ(bad.journal_faults(0).account_id(), n.a[0]);
  EXPECT_NE(bad.journal_faults(0).detail().find("database row balance 9701"), std::string::npos)
      << bad.journal_faults(0).detail();
  EXPECT_TRUE(Verify(admin, /*memory_only=*/true).ok());  // the server's memory is right
  auto [code, err] = CliAuditJournal();
  EXPECT_EQ(code, 1) << err;
  EXPECT_NE(err.find("FAULT: JOURNAL_FAULT_BALANCE_MISMATCH account " + id), std::string::npos)
      << err;
  Sql("UPDATE accounts SET balance = balance - 1 WHERE id = " + id);
  EXPECT_TRUE(Verify(admin).ok());

  // One byte of batch 3's journal bytes altered.
  Sql("UPDATE batches SET bytes = set_byte(bytes, 30, get_byte(bytes, 30) # 1) "
      "WHERE sequence = 3");
  bad = Verify(admin, /*memory_only=*/true);
  EXPECT_FALSE(bad.ok());
  ASSERT_GE(bad.journal_faults_size(), 1);
  EXPECT_EQ(bad.journal_faults(0).kind(), v1::JOURNAL_FAULT_HASH_MISMATCH);
  EXPECT_EQ(bad.journal_faults(0).batch_sequence(), 3u);
  EXPECT_NE(bad.replayed_head().hash(), bad.server_head().hash());
  std::tie(code, err) = CliAuditJournal();
  EXPECT_EQ(code, 1) << err;
  EXPECT_NE(err.find("FAULT: JOURNAL_FAULT_HASH_MISMATCH batch 3"), std::string::npos) << err;

  // Payments still work: the writer never reads the journal back while running.
  Pay(admin, n.a[1], n.a[0], 1);
}

}  // namespace
