// aynid end to end: the real binary (AYNID_PATH) as a child process on 127.0.0.1 port 0
// against a fresh database made from AYNI_TEST_PG, driven through real gRPC channels.
// Without AYNI_TEST_PG every test FAILS (never skips).
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <vector>

#include "tests/server/service/aynid_harness.h"

namespace {

using namespace ayni;

using namespace ayni::test_support;
using AynidTest = AynidFixture;

// ---- The scripted day, a crash and a restart ----------------------------------------------

TEST_F(AynidTest, EndToEndThenKill9AndRestartKeepsEveryAcknowledgedPayment) {
  auto server = std::make_unique<Aynid>(dsn_, key_file_);
  const std::string port = server->WaitListening();
  ASSERT_FALSE(port.empty());
  const std::string addr = port;
  struct stat st {};
  ASSERT_EQ(::stat(key_file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Client admin(addr, ReadKey());

  // No key → UNAUTHENTICATED; a bad key too.
  {
    Client anon(addr, "");
    v1::GetDeploymentReply rep;
    EXPECT_EQ(RPC(anon, setup, GetDeployment, v1::GetDeploymentRequest(), rep).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    Client bad(addr, "ayni_0000000000000001_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    EXPECT_EQ(RPC(bad, setup, GetDeployment, v1::GetDeploymentRequest(), rep).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }

  v1::InitDeploymentRequest init;
  init.set_request_id(NewId());
  init.set_national_code("BRL");
  init.set_scale(100);
  v1::InitDeploymentReply init_rep;
  ASSERT_TRUE(RPC(admin, setup, InitDeployment, init, init_rep).ok());
  ASSERT_EQ(init_rep.reason(), v1::REASON_OK);

  auto bank = [&](const std::string& code) {
    v1::CreateBankRequest q;
    q.set_request_id(NewId());
    q.set_code(code);
    q.set_name("Banco " + code);
    v1::CreateBankReply rep;
    EXPECT_TRUE(RPC(admin, setup, CreateBank, q, rep).ok());
    EXPECT_EQ(rep.reason(), v1::REASON_OK);
    return rep.bank_id();
  };
  const uint64_t bank_a = bank("PALMAS"), bank_b = bank("BEM");
  auto currency = [&](uint64_t b, const std::string& code) {
    v1::CreateCurrencyRequest q;
    q.set_request_id(NewId());
    q.set_bank_id(b);
    q.set_code(code);
    v1::CreateCurrencyReply rep;
    EXPECT_TRUE(RPC(admin, setup, CreateCurrency, q, rep).ok());
    EXPECT_EQ(rep.reason(), v1::REASON_OK);
    return rep.currency_id();
  };
  const uint64_t cur_a = currency(bank_a, "PALMA"), cur_b = currency(bank_b, "BEMS");
  auto account = [&](uint64_t b, uint64_t cur, const std::string& name) {
    v1::CreateMemberRequest m;
    m.set_request_id(NewId());
    m.set_bank_id(b);
    m.set_name(name);
    v1::CreateMemberReply mr;
    EXPECT_TRUE(RPC(admin, setup, CreateMember, m, mr).ok());
    v1::OpenAccountRequest o;
    o.set_request_id(NewId());
    o.set_member_id(mr.member_id());
    o.set_currency_id(cur);
    v1::OpenAccountReply orep;
    EXPECT_TRUE(RPC(admin, setup, OpenAccount, o, orep).ok());
    EXPECT_EQ(orep.reason(), v1::REASON_OK);
    return orep.account_id();
  };
  const uint64_t alice = account(bank_a, cur_a, "Alice"), bob = account(bank_a, cur_a, "Bob");
  const uint64_t carol = account(bank_b, cur_b, "Carol");

  // Deposits (Issue) need a covered reserve: cash in is the reserve (par 1:1).
  auto issue = [&](uint64_t acct, int64_t amount) {
    v1::IssueRequest q;
    q.set_request_id(NewId());
    q.set_account_id(acct);
    q.set_amount_minor(amount);
    v1::IssueReply rep;
    EXPECT_TRUE(RPC(admin, reserves, Issue, q, rep).ok());
    EXPECT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
  };
  issue(alice, 100000);
  issue(carol, 50000);

  // Same-bank and cross-bank payments.
  v1::PayRequest same;
  same.set_request_id(NewId());
  same.set_from_account_id(alice);
  same.set_to_account_id(bob);
  same.set_amount_minor(1000);
  v1::PayReply same_rep;
  ASSERT_TRUE(RPC(admin, ledger, Pay, same, same_rep).ok());
  EXPECT_EQ(same_rep.reason(), v1::REASON_OK);
  EXPECT_FALSE(same_rep.cross_bank());

  v1::PayRequest cross;
  cross.set_request_id(NewId());
  cross.set_from_account_id(alice);
  cross.set_to_account_id(carol);
  cross.set_amount_minor(2500);
  v1::PayReply cross_rep;
  ASSERT_TRUE(RPC(admin, ledger, Pay, cross, cross_rep).ok());
  ASSERT_EQ(cross_rep.reason(), v1::REASON_OK) << cross_rep.detail();
  EXPECT_TRUE(cross_rep.cross_bank());
  EXPECT_EQ(cross_rep.transfer_ids_size(), 3);

  // BatchPay: one submission, one result per item.
  v1::BatchPayRequest batch;
  batch.set_request_id(NewId());
  for (int i = 0; i < 3; ++i) {
    v1::PaymentItem* p = batch.add_payments();
    p->set_from_account_id(bob);
    p->set_to_account_id(alice);
    p->set_amount_minor(100);
  }
  v1::BatchPayReply batch_rep;
  ASSERT_TRUE(RPC(admin, ledger, BatchPay, batch, batch_rep).ok());
  EXPECT_EQ(batch_rep.committed(), 3u);
  EXPECT_EQ(batch_rep.results_size(), 3);

  // A refused payment: its reason as data, nothing written.
  const int64_t transfers_before = Count("transfers");
  v1::PayRequest too_much = same;
  too_much.set_request_id(NewId());
  too_much.set_amount_minor(10'000'000);
  v1::PayReply refused;
  ASSERT_TRUE(RPC(admin, ledger, Pay, too_much, refused).ok());
  EXPECT_EQ(refused.reason(), v1::REASON_INSUFFICIENT_FUNDS);
  EXPECT_EQ(refused.transfer_ids_size(), 0);
  EXPECT_EQ(Count("transfers"), transfers_before);

  // Malformed input → INVALID_ARGUMENT naming the field.
  {
    v1::PayRequest bad = same;
    bad.set_amount_minor(-5);
    v1::PayReply rep;
    const grpc::Status s = RPC(admin, ledger, Pay, bad, rep);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("amount_minor"), std::string::npos) << s.error_message();
    bad = same;
    bad.set_request_id("short");
    const grpc::Status s2 = RPC(admin, ledger, Pay, bad, rep);
    EXPECT_EQ(s2.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s2.error_message().find("request_id"), std::string::npos) << s2.error_message();
  }

  // A TELLER of bank A: pays to bank B, never debits or reads bank B's accounts.
  v1::CreateApiKeyRequest kq;
  kq.set_request_id(NewId());
  kq.set_role(v1::ROLE_TELLER);
  kq.mutable_scope()->set_kind(v1::SCOPE_KIND_BANK);
  kq.mutable_scope()->set_id(bank_a);
  kq.set_label("teller A");
  v1::CreateApiKeyReply krep;
  ASSERT_TRUE(RPC(admin, setup, CreateApiKey, kq, krep).ok());
  ASSERT_EQ(krep.reason(), v1::REASON_OK);
  ASSERT_FALSE(krep.token().empty());
  {
    v1::CreateApiKeyReply again;
    ASSERT_TRUE(RPC(admin, setup, CreateApiKey, kq, again).ok());
    EXPECT_EQ(again.reason(), v1::REASON_EXISTS);
    EXPECT_EQ(again.key_id(), krep.key_id());
    EXPECT_TRUE(again.token().empty());
  }
  Client teller(addr, krep.token());
  {
    v1::PayRequest to_b;
    to_b.set_request_id(NewId());
    to_b.set_from_account_id(alice);
    to_b.set_to_account_id(carol);
    to_b.set_amount_minor(10);
    v1::PayReply rep;
    ASSERT_TRUE(RPC(teller, ledger, Pay, to_b, rep).ok());
    EXPECT_EQ(rep.reason(), v1::REASON_OK);
    v1::PayRequest from_b;
    from_b.set_request_id(NewId());
    from_b.set_from_account_id(carol);
    from_b.set_to_account_id(alice);
    from_b.set_amount_minor(10);
    EXPECT_EQ(RPC(teller, ledger, Pay, from_b, rep).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::GetAccountRequest g;
    g.set_account_id(carol);
    v1::GetAccountReply grep;
    EXPECT_EQ(RPC(teller, ledger, GetAccount, g, grep).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    g.set_account_id(alice);
    EXPECT_TRUE(RPC(teller, ledger, GetAccount, g, grep).ok());
    // A batch with one item from bank B is refused as a whole, nothing queued.
    v1::BatchPayRequest mixed;
    mixed.set_request_id(NewId());
    v1::PaymentItem* ok = mixed.add_payments();
    ok->set_from_account_id(alice);
    ok->set_to_account_id(bob);
    ok->set_amount_minor(1);
    v1::PaymentItem* evil = mixed.add_payments();
    evil->set_from_account_id(carol);
    evil->set_to_account_id(alice);
    evil->set_amount_minor(1);
    v1::BatchPayReply mrep;
    EXPECT_EQ(RPC(teller, ledger, BatchPay, mixed, mrep).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }

  // Idempotent retry: REASON_EXISTS with the same transfer ids.
  v1::PayReply retry;
  ASSERT_TRUE(RPC(admin, ledger, Pay, cross, retry).ok());
  EXPECT_EQ(retry.reason(), v1::REASON_EXISTS);
  ASSERT_EQ(retry.transfer_ids_size(), cross_rep.transfer_ids_size());
  for (int i = 0; i < retry.transfer_ids_size(); ++i) {
    EXPECT_EQ(retry.transfer_ids(i), cross_rep.transfer_ids(i));
  }

  // Clearing: bank A owes bank B 2510.
  v1::RunInterbankCycleRequest cq;
  cq.set_request_id(NewId());
  v1::RunInterbankCycleReply crep;
  ASSERT_TRUE(RPC(admin, clearing, RunInterbankCycle, cq, crep).ok());
  EXPECT_EQ(crep.reason(), v1::REASON_OK) << crep.detail();
  EXPECT_EQ(crep.report().number(), 1u);
  EXPECT_EQ(crep.report().gross_total_minor(), 2510);
  {
    v1::GetCycleRequest g;
    g.set_latest(true);
    v1::GetCycleReply rep;
    ASSERT_TRUE(RPC(admin, clearing, GetCycle, g, rep).ok());
    EXPECT_EQ(rep.report().number(), 1u);
    v1::GetCoverageRequest cov;
    cov.set_bank_id(bank_a);
    v1::GetCoverageReply cov_rep;
    ASSERT_TRUE(RPC(admin, reserves, GetCoverage, cov, cov_rep).ok());
    EXPECT_TRUE(cov_rep.coverage().covered());
  }

  auto balance = [&](Client& c, uint64_t acct) -> int64_t {
    v1::GetAccountRequest g;
    g.set_account_id(acct);
    v1::GetAccountReply rep;
    const grpc::Status s = RPC(c, ledger, GetAccount, g, rep);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return rep.account().balance_minor();
  };
  const int64_t alice_bal = 100000 - 1000 - 2500 + 300 - 10;
  const int64_t bob_bal = 1000 - 300;
  const int64_t carol_bal = 50000 + 2500 + 10;
  EXPECT_EQ(balance(admin, alice), alice_bal);
  EXPECT_EQ(balance(admin, bob), bob_bal);
  EXPECT_EQ(balance(admin, carol), carol_bal);
  const int64_t transfers_acked = Count("transfers");

  // kill -9, restart: every acknowledged payment present exactly once; keys persisted.
  server->Kill(SIGKILL);
  server = std::make_unique<Aynid>(dsn_, key_file_);
  const std::string port2 = server->WaitListening();
  ASSERT_FALSE(port2.empty());
  Client admin2(port2, ReadKey());
  Client teller2(port2, krep.token());
  EXPECT_EQ(balance(admin2, alice), alice_bal);
  EXPECT_EQ(balance(admin2, bob), bob_bal);
  EXPECT_EQ(balance(teller2, alice), alice_bal);
  EXPECT_EQ(balance(admin2, carol), carol_bal);
  v1::PayReply retry2;
  ASSERT_TRUE(RPC(admin2, ledger, Pay, cross, retry2).ok());
  EXPECT_EQ(retry2.reason(), v1::REASON_EXISTS);
  EXPECT_EQ(retry2.transfer_ids(0), cross_rep.transfer_ids(0));
  v1::BatchPayReply batch_again;
  ASSERT_TRUE(RPC(admin2, ledger, BatchPay, batch, batch_again).ok());
  for (const auto& r : batch_again.results()) EXPECT_EQ(r.reason(), v1::REASON_EXISTS);
  EXPECT_EQ(Count("transfers"), transfers_acked);
  EXPECT_EQ(balance(admin2, alice), alice_bal);
}

// ---- Hot standby ------------------------------------------------------------------------

TEST_F(AynidTest, SecondAynidWaitsAsStandbyAndTakesOverWhenTheFirstDies) {
  Aynid first(dsn_, key_file_);
  ASSERT_FALSE(first.WaitListening().empty());
  const std::string token = ReadKey();
  Aynid second(dsn_, key_file_);
  ASSERT_TRUE(second.WaitLine("aynid: waiting for the writer lock").has_value());
  first.Kill(SIGKILL);
  const std::string port = second.WaitListening();
  ASSERT_FALSE(port.empty());
  EXPECT_EQ(ReadKey(), token);  // keys existed: no second bootstrap
  Client admin(port, token);
  v1::GetDeploymentReply rep;
  EXPECT_TRUE(RPC(admin, setup, GetDeployment, v1::GetDeploymentRequest(), rep).ok());
}

// ---- Health without a key ----------------------------------------------------------------

// grpc.health.v1.Health/Check answers SERVING to a caller without any key. The messages
// are tiny, so they are written as bytes: HealthCheckRequest{} is empty, and
// HealthCheckResponse{status: SERVING (1)} is 0x08 0x01.
TEST_F(AynidTest, HealthCheckServesWithoutAKey) {
  Aynid server(dsn_, key_file_);
  const std::string addr = server.WaitListening();
  ASSERT_FALSE(addr.empty());
  grpc::GenericStub service(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Slice empty("", 0);  // an empty message (a ByteBuffer without slices is invalid)
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  service.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  const grpc::Status s = done.get_future().get();
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& sl : slices)
    bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

// ---- Set-up, reserves, lists and API keys ------------------------------------------------

TEST_F(AynidTest, SetupReservesListsAndKeysThroughEveryRpc) {
  Aynid server(dsn_, key_file_);
  const std::string addr = server.WaitListening();
  ASSERT_FALSE(addr.empty());
  Client admin(addr, ReadKey());

  v1::InitDeploymentRequest init;
  init.set_request_id(NewId());
  init.set_national_code("BRL");
  init.set_scale(100);
  v1::InitDeploymentReply init_rep;
  ASSERT_TRUE(RPC(admin, setup, InitDeployment, init, init_rep).ok());
  v1::CreateBankRequest bq;
  bq.set_request_id(NewId());
  bq.set_code("PALMAS");
  bq.set_name("Banco Palmas");
  v1::CreateBankReply brep;
  ASSERT_TRUE(RPC(admin, setup, CreateBank, bq, brep).ok());
  const uint64_t bank = brep.bank_id();
  v1::CreateCurrencyRequest cq;
  cq.set_request_id(NewId());
  cq.set_bank_id(bank);
  cq.set_code("PALMA");
  v1::CreateCurrencyReply crep;
  ASSERT_TRUE(RPC(admin, setup, CreateCurrency, cq, crep).ok());
  v1::CreateCircleRequest ciq;
  ciq.set_request_id(NewId());
  ciq.set_bank_id(bank);
  ciq.set_code("FEIRA");
  ciq.set_name("Feira solidaria");
  ciq.set_scale(100);
  ciq.set_default_credit_limit_minor(5000);
  v1::CreateCircleReply cirep;
  ASSERT_TRUE(RPC(admin, setup, CreateCircle, ciq, cirep).ok());
  ASSERT_EQ(cirep.reason(), v1::REASON_OK) << cirep.detail();
  EXPECT_NE(cirep.currency_id(), 0u);

  std::vector<uint64_t> members, accounts, mc_accounts;
  for (const char* name : {"Ana", "Beto"}) {
    v1::CreateMemberRequest m;
    m.set_request_id(NewId());
    m.set_bank_id(bank);
    m.set_name(name);
    v1::CreateMemberReply mr;
    ASSERT_TRUE(RPC(admin, setup, CreateMember, m, mr).ok());
    members.push_back(mr.member_id());
    v1::AddCircleMemberRequest am;
    am.set_request_id(NewId());
    am.set_circle_id(cirep.circle_id());
    am.set_member_id(mr.member_id());
    v1::AddCircleMemberReply amr;
    ASSERT_TRUE(RPC(admin, setup, AddCircleMember, am, amr).ok());
    EXPECT_EQ(amr.reason(), v1::REASON_OK) << amr.detail();
    for (uint64_t cur : {crep.currency_id(), cirep.currency_id()}) {
      v1::OpenAccountRequest o;
      o.set_request_id(NewId());
      o.set_member_id(mr.member_id());
      o.set_currency_id(cur);
      v1::OpenAccountReply orep;
      ASSERT_TRUE(RPC(admin, setup, OpenAccount, o, orep).ok());
      ASSERT_EQ(orep.reason(), v1::REASON_OK) << orep.detail();
      (cur == crep.currency_id() ? accounts : mc_accounts).push_back(orep.account_id());
    }
  }

  // Reserves: deposit, programme money into the reserve, distribution within the excess,
  // one above it refused with its reason, redemption with its fee.
  v1::IssueRequest iq;
  iq.set_request_id(NewId());
  iq.set_account_id(accounts[0]);
  iq.set_amount_minor(10000);
  v1::IssueReply irep;
  ASSERT_TRUE(RPC(admin, reserves, Issue, iq, irep).ok());
  EXPECT_EQ(irep.reason(), v1::REASON_OK) << irep.detail();
  v1::FundReserveRequest fq;
  fq.set_request_id(NewId());
  fq.set_bank_id(bank);
  fq.set_amount_minor(3000);
  fq.set_memo("programa municipal");
  v1::FundReserveReply frep;
  ASSERT_TRUE(RPC(admin, reserves, FundReserve, fq, frep).ok());
  EXPECT_EQ(frep.reason(), v1::REASON_OK) << frep.detail();
  v1::DistributeRequest dq;
  dq.set_request_id(NewId());
  dq.set_account_id(accounts[1]);
  dq.set_amount_minor(2000);
  v1::DistributeReply drep;
  ASSERT_TRUE(RPC(admin, reserves, Distribute, dq, drep).ok());
  EXPECT_EQ(drep.reason(), v1::REASON_OK) << drep.detail();
  dq.set_request_id(NewId());
  dq.set_amount_minor(5000);
  ASSERT_TRUE(RPC(admin, reserves, Distribute, dq, drep).ok());
  EXPECT_EQ(drep.reason(), v1::REASON_COVERAGE_WOULD_BREAK) << drep.detail();
  v1::RedeemRequest rq;
  rq.set_request_id(NewId());
  rq.set_account_id(accounts[0]);
  rq.set_amount_minor(1000);
  v1::RedeemReply rrep;
  ASSERT_TRUE(RPC(admin, reserves, Redeem, rq, rrep).ok());
  EXPECT_EQ(rrep.reason(), v1::REASON_OK) << rrep.detail();
  EXPECT_EQ(rrep.fee_minor(), 20);  // 2% default
  EXPECT_EQ(rrep.paid_out_minor(), 980);
  v1::GetCoverageRequest gq;
  gq.set_bank_id(bank);
  v1::GetCoverageReply grep;
  ASSERT_TRUE(RPC(admin, reserves, GetCoverage, gq, grep).ok());
  EXPECT_TRUE(grep.coverage().covered());
  EXPECT_EQ(grep.coverage().supply_minor(), 10000 + 2000 - 1000);

  // Mutual credit below zero within the limit; a frozen payer is refused as data.
  v1::PayRequest mc;
  mc.set_request_id(NewId());
  mc.set_from_account_id(mc_accounts[0]);
  mc.set_to_account_id(mc_accounts[1]);
  mc.set_amount_minor(4000);
  v1::PayReply mcrep;
  ASSERT_TRUE(RPC(admin, ledger, Pay, mc, mcrep).ok());
  EXPECT_EQ(mcrep.reason(), v1::REASON_OK) << mcrep.detail();
  v1::SetAccountLimitsRequest lq;
  lq.set_request_id(NewId());
  lq.set_account_id(mc_accounts[0]);
  lq.set_credit_limit_minor(8000);
  lq.set_actor("circle admins");
  lq.set_reason("assembly of March");
  v1::SetAccountLimitsReply lrep;
  ASSERT_TRUE(RPC(admin, setup, SetAccountLimits, lq, lrep).ok());
  EXPECT_EQ(lrep.reason(), v1::REASON_OK) << lrep.detail();
  v1::SetAccountStatusRequest sq;
  sq.set_request_id(NewId());
  sq.set_account_id(accounts[0]);
  sq.set_status(v1::ACCOUNT_STATUS_FROZEN);
  sq.set_actor("teller");
  sq.set_reason("lost card");
  v1::SetAccountStatusReply srep;
  ASSERT_TRUE(RPC(admin, setup, SetAccountStatus, sq, srep).ok());
  EXPECT_EQ(srep.reason(), v1::REASON_OK) << srep.detail();
  v1::PayRequest frozen;
  frozen.set_request_id(NewId());
  frozen.set_from_account_id(accounts[0]);
  frozen.set_to_account_id(accounts[1]);
  frozen.set_amount_minor(1);
  v1::PayReply frozen_rep;
  ASSERT_TRUE(RPC(admin, ledger, Pay, frozen, frozen_rep).ok());
  EXPECT_EQ(frozen_rep.reason(), v1::REASON_DEBIT_ACCOUNT_FROZEN);

  // Lists.
  v1::ListBanksReply lb;
  ASSERT_TRUE(RPC(admin, setup, ListBanks, v1::ListBanksRequest(), lb).ok());
  ASSERT_EQ(lb.banks_size(), 1);
  EXPECT_EQ(lb.banks(0).code(), "PALMAS");
  v1::ListCurrenciesReply lc;
  ASSERT_TRUE(RPC(admin, setup, ListCurrencies, v1::ListCurrenciesRequest(), lc).ok());
  EXPECT_EQ(lc.currencies_size(), 3);  // BRL, PALMA, FEIRA
  v1::ListCirclesRequest lciq;
  lciq.set_bank_id(bank);
  v1::ListCirclesReply lci;
  ASSERT_TRUE(RPC(admin, setup, ListCircles, lciq, lci).ok());
  ASSERT_EQ(lci.circles_size(), 1);
  EXPECT_EQ(lci.circles(0).member_count(), 2u);
  v1::ListAccountsRequest laq;
  laq.set_member_id(members[0]);
  laq.set_page_size(1);
  v1::ListAccountsReply la;
  ASSERT_TRUE(RPC(admin, ledger, ListAccounts, laq, la).ok());
  ASSERT_EQ(la.accounts_size(), 1);
  ASSERT_FALSE(la.next_page_token().empty());
  laq.set_page_token(la.next_page_token());
  v1::ListAccountsReply la2;
  ASSERT_TRUE(RPC(admin, ledger, ListAccounts, laq, la2).ok());
  ASSERT_EQ(la2.accounts_size(), 1);
  EXPECT_TRUE(la2.next_page_token().empty());
  EXPECT_NE(la.accounts(0).account_id(), la2.accounts(0).account_id());
  v1::ListCyclesReply lcy;
  ASSERT_TRUE(RPC(admin, clearing, ListCycles, v1::ListCyclesRequest(), lcy).ok());
  EXPECT_EQ(lcy.cycles_size(), 0);
  v1::GetDeploymentReply dep;
  ASSERT_TRUE(RPC(admin, setup, GetDeployment, v1::GetDeploymentRequest(), dep).ok());
  EXPECT_TRUE(dep.deployed());
  EXPECT_EQ(dep.national_code(), "BRL");
  EXPECT_EQ(dep.bank_count(), 1u);

  // A MEMBER key pays from its own account only; revoked, it no longer authenticates.
  v1::CreateApiKeyRequest kq;
  kq.set_request_id(NewId());
  kq.set_role(v1::ROLE_MEMBER);
  kq.mutable_scope()->set_kind(v1::SCOPE_KIND_ACCOUNT);
  kq.mutable_scope()->set_id(mc_accounts[1]);
  kq.set_label("Beto's phone");
  v1::CreateApiKeyReply krep;
  ASSERT_TRUE(RPC(admin, setup, CreateApiKey, kq, krep).ok());
  ASSERT_EQ(krep.reason(), v1::REASON_OK);
  Client member(addr, krep.token());
  v1::PayRequest own;
  own.set_request_id(NewId());
  own.set_from_account_id(mc_accounts[1]);
  own.set_to_account_id(mc_accounts[0]);
  own.set_amount_minor(100);
  v1::PayReply own_rep;
  ASSERT_TRUE(RPC(member, ledger, Pay, own, own_rep).ok());
  EXPECT_EQ(own_rep.reason(), v1::REASON_OK);
  v1::PayRequest other = own;
  other.set_request_id(NewId());
  other.set_from_account_id(mc_accounts[0]);
  other.set_to_account_id(mc_accounts[1]);
  EXPECT_EQ(RPC(member, ledger, Pay, other, own_rep).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::CreateApiKeyRequest escalate = kq;  // a MEMBER never creates keys
  escalate.set_request_id(NewId());
  v1::CreateApiKeyReply erep;
  EXPECT_EQ(RPC(member, setup, CreateApiKey, escalate, erep).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::CreateApiKeyRequest badkey = kq;
  badkey.set_request_id(NewId());
  badkey.set_role(v1::ROLE_UNSPECIFIED);
  const grpc::Status bs = RPC(admin, setup, CreateApiKey, badkey, erep);
  EXPECT_EQ(bs.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bs.error_message().find("role"), std::string::npos);

  v1::RevokeApiKeyRequest rk;
  rk.set_request_id(NewId());
  rk.set_key_id(krep.key_id());
  rk.set_actor("admin");
  rk.set_reason("phone lost");
  v1::RevokeApiKeyReply rkrep;
  ASSERT_TRUE(RPC(admin, setup, RevokeApiKey, rk, rkrep).ok());
  EXPECT_EQ(rkrep.reason(), v1::REASON_OK);
  own.set_request_id(NewId());
  EXPECT_EQ(RPC(member, ledger, Pay, own, own_rep).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::ListApiKeysRequest lkq;
  lkq.set_include_revoked(true);
  v1::ListApiKeysReply lk;
  ASSERT_TRUE(RPC(admin, setup, ListApiKeys, lkq, lk).ok());
  ASSERT_EQ(lk.keys_size(), 2);  // bootstrap + member
  EXPECT_TRUE(lk.keys(0).revoked() || lk.keys(1).revoked());
  lkq.set_include_revoked(false);
  ASSERT_TRUE(RPC(admin, setup, ListApiKeys, lkq, lk).ok());
  EXPECT_EQ(lk.keys_size(), 1);
  EXPECT_EQ(Count("api_keys WHERE revoked_at_ns <> 0"), 1);
}

TEST_F(AynidTest, SigtermStopsGracefullyWithExitZero) {
  Aynid server(dsn_, key_file_);
  ASSERT_FALSE(server.WaitListening().empty());
  const int st = server.Kill(SIGTERM);
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

}  // namespace
