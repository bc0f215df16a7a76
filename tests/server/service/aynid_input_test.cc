// The bad-input matrix over real gRPC against a real aynid: each malformed request is
// answered INVALID_ARGUMENT with a message naming the field, and nothing is written
// (the stored journal, transfers and account rows are unchanged). Business refusals
// (unknown account, insufficient funds) come back as data, also writing nothing.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/server/service/aynid_harness.h"

namespace {

using namespace ayni;
using namespace ayni::test_support;

class InputTest : public AynidFixture {
 protected:
  std::string Fingerprint() {
    pqxx::connection c(dsn_);
    pqxx::nontransaction tx(c);
    return tx
        .exec(
            "SELECT (SELECT count(*) FROM batches) || '/' || (SELECT count(*) FROM transfers) "
            "|| '/' || (SELECT coalesce(sum(balance), 0) || ':' || count(*) FROM accounts)")[0][0]
        .as<std::string>();
  }
};

struct BadCall {
  std::string name;
  std::string field;  // the message names it
  std::function<grpc::Status(Client&)> call;
};

template <typename Req>
Req WithId(Req r) {
  r.set_request_id(NewId());
  return r;
}

TEST_F(InputTest, EveryMalformedRequestIsRefusedNamingTheFieldAndWritesNothing) {
  Aynid server(dsn_, key_file_);
  const std::string addr = server.WaitListening();
  ASSERT_FALSE(addr.empty());
  Client admin(addr, ReadKey());
  const SmallNetwork n = BuildNetwork(admin, 2, 10000);
  const uint64_t a = n.a[0], b = n.a[1];

  auto pay = [&](int64_t amount, uint64_t from, uint64_t to, std::string memo = "") {
    v1::PayRequest q = WithId(v1::PayRequest());
    q.set_from_account_id(from);
    q.set_to_account_id(to);
    q.set_amount_minor(amount);
    q.set_memo(memo);
    return q;
  };
  std::vector<BadCall> cases = {
      {"pay zero", "amount_minor",
       [&](Client& c) { v1::PayReply r; return RPC(c, ledger, Pay, pay(0, a, b), r); }},
      {"pay negative", "amount_minor",
       [&](Client& c) { v1::PayReply r; return RPC(c, ledger, Pay, pay(-1, a, b), r); }},
      {"pay short request id", "request_id",
       [&](Client& c) {
         v1::PayRequest q = pay(1, a, b);
         q.set_request_id("short");
         v1::PayReply r;
         return RPC(c, ledger, Pay, q, r);
       }},
      {"pay memo too long", "memo",
       [&](Client& c) {
         v1::PayReply r;
         return RPC(c, ledger, Pay, pay(1, a, b, std::string(141, 'm')), r);
       }},
      {"pay from account 0", "from_account_id",
       [&](Client& c) { v1::PayReply r; return RPC(c, ledger, Pay, pay(1, 0, b), r); }},
      {"batch empty", "payments",
       [&](Client& c) {
         v1::BatchPayReply r;
         return RPC(c, ledger, BatchPay, WithId(v1::BatchPayRequest()), r);
       }},
      {"batch too large", "payments",
       [&](Client& c) {
         v1::BatchPayRequest q = WithId(v1::BatchPayRequest());
         for (int i = 0; i < 8191; ++i) {
           auto* p = q.add_payments();
           p->set_from_account_id(a);
           p->set_to_account_id(b);
           p->set_amount_minor(1);
         }
         v1::BatchPayReply r;
         return RPC(c, ledger, BatchPay, q, r);
       }},
      {"issue zero", "amount_minor",
       [&](Client& c) {
         v1::IssueRequest q = WithId(v1::IssueRequest());
         q.set_account_id(a);
         v1::IssueReply r;
         return RPC(c, reserves, Issue, q, r);
       }},
      {"redeem negative", "amount_minor",
       [&](Client& c) {
         v1::RedeemRequest q = WithId(v1::RedeemRequest());
         q.set_account_id(a);
         q.set_amount_minor(-5);
         v1::RedeemReply r;
         return RPC(c, reserves, Redeem, q, r);
       }},
      {"fund reserve bank 0", "bank_id",
       [&](Client& c) {
         v1::FundReserveRequest q = WithId(v1::FundReserveRequest());
         q.set_amount_minor(5);
         v1::FundReserveReply r;
         return RPC(c, reserves, FundReserve, q, r);
       }},
      {"bank without code", "code",
       [&](Client& c) {
         v1::CreateBankRequest q = WithId(v1::CreateBankRequest());
         q.set_name("Nameless");
         v1::CreateBankReply r;
         return RPC(c, setup, CreateBank, q, r);
       }},
      {"bank name too long", "name",
       [&](Client& c) {
         v1::CreateBankRequest q = WithId(v1::CreateBankRequest());
         q.set_code("LONG");
         q.set_name(std::string(121, 'n'));
         v1::CreateBankReply r;
         return RPC(c, setup, CreateBank, q, r);
       }},
      {"currency coverage out of range", "coverage_min_bp",
       [&](Client& c) {
         v1::CreateCurrencyRequest q = WithId(v1::CreateCurrencyRequest());
         q.set_bank_id(n.bank_a);
         q.set_code("NEW");
         q.set_coverage_min_bp(-1);
         v1::CreateCurrencyReply r;
         return RPC(c, setup, CreateCurrency, q, r);
       }},
      {"member without name", "name",
       [&](Client& c) {
         v1::CreateMemberRequest q = WithId(v1::CreateMemberRequest());
         q.set_bank_id(n.bank_a);
         v1::CreateMemberReply r;
         return RPC(c, setup, CreateMember, q, r);
       }},
      {"account for member 0", "member_id",
       [&](Client& c) {
         v1::OpenAccountRequest q = WithId(v1::OpenAccountRequest());
         q.set_currency_id(n.cur_a);
         v1::OpenAccountReply r;
         return RPC(c, setup, OpenAccount, q, r);
       }},
      {"get account 0", "account_id",
       [&](Client& c) {
         v1::GetAccountReply r;
         return RPC(c, ledger, GetAccount, v1::GetAccountRequest(), r);
       }},
      {"list page size", "page_size",
       [&](Client& c) {
         v1::ListAccountsRequest q;
         q.set_page_size(5000);
         v1::ListAccountsReply r;
         return RPC(c, ledger, ListAccounts, q, r);
       }},
      {"cycle number 0", "number",
       [&](Client& c) {
         v1::GetCycleRequest q;
         q.set_number(0);
         v1::GetCycleReply r;
         return RPC(c, clearing, GetCycle, q, r);
       }},
  };

  const std::string before = Fingerprint();
  for (const BadCall& bc : cases) {
    const grpc::Status s = bc.call(admin);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bc.name << ": "
                                                                  << s.error_message();
    EXPECT_NE(s.error_message().find(bc.field), std::string::npos)
        << bc.name << ": " << s.error_message();
    EXPECT_EQ(Fingerprint(), before) << bc.name << ": something was written";
  }

  // Business refusals: data, not errors, and nothing written either.
  v1::PayReply r;
  ASSERT_TRUE(RPC(admin, ledger, Pay, pay(1, a, 987654), r).ok());
  EXPECT_EQ(r.reason(), v1::REASON_CREDIT_ACCOUNT_NOT_FOUND) << r.detail();
  ASSERT_TRUE(RPC(admin, ledger, Pay, pay(10001, a, b), r).ok());
  EXPECT_EQ(r.reason(), v1::REASON_INSUFFICIENT_FUNDS) << r.detail();
  EXPECT_EQ(Fingerprint(), before);
  EXPECT_EQ(BalanceOf(admin, a), 10000);
}

}  // namespace
