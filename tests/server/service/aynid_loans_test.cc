// LoanService through a real aynid on a real PostgreSQL (issue 7): every RPC's success
// path, the business refusals as data (coverage, limits, arrears, overpayment, unknown
// product or loan), malformed input as INVALID_ARGUMENT naming the field with nothing
// written, the role rules, and the loan book in the reserve audit.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ayni/v1/loans.grpc.pb.h"
#include "clearing/loans.h"
#include "tests/server/service/aynid_harness.h"

namespace {

using namespace ayni;
using namespace ayni::test_support;

// A LoanService client channel with its own key.
class Loans {
 public:
  Loans(const std::string& addr, std::string token)
      : service(v1::LoanService::NewStub(
            grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()))),
        token_(std::move(token)) {}
  std::unique_ptr<grpc::ClientContext> Ctx() const {
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("authorization", "Bearer " + token_);
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return c;
  }
  std::unique_ptr<v1::LoanService::Stub> service;

 private:
  std::string token_;
};

#define LOAN(loans, method, req, reply) (loans).service->method((loans).Ctx().get(), (req), &(reply))

class LoansTest : public AynidFixture {
 protected:
  void Start() {
    server_ = std::make_unique<Aynid>(dsn_, key_file_);
    addr_ = server_->WaitListening();
    ASSERT_FALSE(addr_.empty());
    admin_ = std::make_unique<Client>(addr_, ReadKey());
    loans_ = std::make_unique<Loans>(addr_, ReadKey());
    v1::GetDeploymentReply d;
    net_ = BuildNetwork(*admin_, 4, 10000);
    ASSERT_TRUE(RPC(*admin_, setup, GetDeployment, v1::GetDeploymentRequest(), d).ok());
    national_ = d.national_currency_id();
    for (uint64_t a : net_.a) members_a_.push_back(MemberOf(a));
    for (uint64_t b : net_.b) members_b_.push_back(MemberOf(b));
  }
  uint64_t MemberOf(uint64_t account) {
    v1::GetAccountRequest g;
    g.set_account_id(account);
    v1::GetAccountReply rep;
    AYNI_EXPECT_OK(RPC(*admin_, ledger, GetAccount, g, rep));
    return rep.account().owner_member_id();
  }
  void Fund(uint64_t bank, int64_t amount) {
    v1::FundReserveRequest q;
    q.set_request_id(NewId());
    q.set_bank_id(bank);
    q.set_amount_minor(amount);
    v1::FundReserveReply rep;
    AYNI_EXPECT_OK(RPC(*admin_, reserves, FundReserve, q, rep));
    EXPECT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
  }
  std::string Key(v1::Role role, uint64_t bank) {
    v1::CreateApiKeyRequest q;
    q.set_request_id(NewId());
    q.set_role(role);
    q.mutable_scope()->set_kind(v1::SCOPE_KIND_BANK);
    q.mutable_scope()->set_id(bank);
    q.set_label("loans test");
    v1::CreateApiKeyReply rep;
    AYNI_EXPECT_OK(RPC(*admin_, setup, CreateApiKey, q, rep));
    return rep.token();
  }
  static v1::CreateLoanProductRequest Product(uint64_t bank, uint64_t currency, int64_t max) {
    v1::CreateLoanProductRequest q;
    q.set_request_id(NewId());
    q.set_bank_id(bank);
    q.set_name("producao");
    q.set_currency_id(currency);
    q.set_max_principal_minor(max);
    q.set_monthly_rate_bp(100);
    q.set_instalments(4);
    q.set_period_days(30);
    return q;
  }
  uint64_t CreateProduct(Loans& as, const v1::CreateLoanProductRequest& q) {
    v1::CreateLoanProductReply rep;
    AYNI_EXPECT_OK(LOAN(as, CreateLoanProduct, q, rep));
    EXPECT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
    return rep.product_id();
  }
  uint64_t CreateGroup(Loans& as, uint64_t bank, std::vector<uint64_t> members) {
    v1::CreateSolidarityGroupRequest q;
    q.set_request_id(NewId());
    q.set_bank_id(bank);
    q.set_name("grupo");
    for (uint64_t m : members) q.add_member_ids(m);
    q.add_liable_member_ids(members[0]);
    q.add_liable_member_ids(members[1]);
    v1::CreateSolidarityGroupReply rep;
    AYNI_EXPECT_OK(LOAN(as, CreateSolidarityGroup, q, rep));
    EXPECT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
    return rep.group_id();
  }
  static v1::DisburseLoanRequest Disburse(uint64_t product, uint64_t member, uint64_t group,
                                          int64_t principal, uint64_t account = 0) {
    v1::DisburseLoanRequest q;
    q.set_request_id(NewId());
    q.set_product_id(product);
    q.set_member_id(member);
    q.set_group_id(group);
    q.set_principal_minor(principal);
    q.set_account_id(account);
    return q;
  }
  static v1::RepayLoanRequest Repay(uint64_t loan, int64_t amount, uint64_t account = 0) {
    v1::RepayLoanRequest q;
    q.set_request_id(NewId());
    q.set_loan_id(loan);
    q.set_amount_minor(amount);
    q.set_account_id(account);
    return q;
  }
  v1::BankAudit AuditOf(uint64_t bank) {
    v1::ReserveAuditRequest q;
    q.set_bank_id(bank);
    v1::ReserveAuditReply rep;
    AYNI_EXPECT_OK(RPC(*admin_, audit, ReserveAudit, q, rep));
    EXPECT_EQ(rep.banks_size(), 1);
    return rep.banks_size() == 1 ? rep.banks(0) : v1::BankAudit();
  }

  std::unique_ptr<Aynid> server_;
  std::string addr_;
  std::unique_ptr<Client> admin_;
  std::unique_ptr<Loans> loans_;
  SmallNetwork net_;
  uint64_t national_ = 0;
  std::vector<uint64_t> members_a_, members_b_;
};

TEST_F(LoansTest, GroupLoanDisbursedRepaidListedInThePortfolioAndTheAuditThenWrittenOff) {
  Start();
  Loans& L = *loans_;
  Fund(net_.bank_a, 200000);  // 2,000.00 of excess reserve to lend
  const uint64_t product = CreateProduct(L, Product(net_.bank_a, national_, 500000));
  ASSERT_NE(product, 0u);

  v1::ListLoanProductsRequest lp;
  lp.set_bank_id(net_.bank_a);
  v1::ListLoanProductsReply products;
  ASSERT_TRUE(LOAN(L, ListLoanProducts, lp, products).ok());
  ASSERT_EQ(products.products_size(), 1);
  EXPECT_EQ(products.products(0).product_id(), product);
  EXPECT_EQ(products.products(0).currency_code(), "BRL");
  EXPECT_EQ(products.products(0).max_principal_minor(), 500000);
  EXPECT_EQ(products.products(0).instalments(), 4);
  lp.set_bank_id(net_.bank_b);
  ASSERT_TRUE(LOAN(L, ListLoanProducts, lp, products).ok());
  EXPECT_EQ(products.products_size(), 0);

  const uint64_t group = CreateGroup(L, net_.bank_a, {members_a_[0], members_a_[1], members_a_[2]});
  ASSERT_NE(group, 0u);

  // Beyond the excess: coverage would break, nothing written.
  const int64_t transfers = Count("transfers");
  v1::DisburseLoanReply d;
  ASSERT_TRUE(LOAN(L, DisburseLoan, Disburse(product, 0, group, 200001), d).ok());
  EXPECT_EQ(d.reason(), v1::REASON_COVERAGE_WOULD_BREAK) << d.detail();
  EXPECT_EQ(d.loan_id(), 0u);
  // Beyond the product's maximum.
  ASSERT_TRUE(LOAN(L, DisburseLoan, Disburse(product, 0, group, 500001), d).ok());
  EXPECT_EQ(d.reason(), v1::REASON_PRINCIPAL_ABOVE_MAX) << d.detail();
  // Unknown product, unknown group.
  ASSERT_TRUE(LOAN(L, DisburseLoan, Disburse(999, 0, group, 100), d).ok());
  EXPECT_EQ(d.reason(), v1::REASON_LOAN_PRODUCT_NOT_FOUND);
  ASSERT_TRUE(LOAN(L, DisburseLoan, Disburse(product, 0, 999, 100), d).ok());
  EXPECT_EQ(d.reason(), v1::REASON_GROUP_NOT_FOUND);
  EXPECT_EQ(Count("transfers"), transfers);

  // 800.00 to the group: RESERVE → LOANS.
  const v1::DisburseLoanRequest disburse = Disburse(product, 0, group, 80000);
  ASSERT_TRUE(LOAN(L, DisburseLoan, disburse, d).ok());
  ASSERT_EQ(d.reason(), v1::REASON_OK) << d.detail();
  EXPECT_EQ(d.legs(), 1u);
  const uint64_t loan = d.loan_id();
  ASSERT_NE(loan, 0u);
  EXPECT_EQ(Count("transfers"), transfers + 1);
  // A retry of the same request is the same loan.
  ASSERT_TRUE(LOAN(L, DisburseLoan, disburse, d).ok());
  EXPECT_EQ(d.reason(), v1::REASON_EXISTS);
  EXPECT_EQ(d.loan_id(), loan);

  // The schedule: 200.00 of principal each; 1% a month on 800, 600, 400, 200.
  v1::GetLoanRequest g;
  g.set_loan_id(loan);
  v1::GetLoanReply got;
  ASSERT_TRUE(LOAN(L, GetLoan, g, got).ok());
  ASSERT_EQ(got.loan().schedule_size(), 4);
  const int64_t interest[] = {800, 600, 400, 200};
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(got.loan().schedule(k).number(), static_cast<uint32_t>(k + 1));
    EXPECT_EQ(got.loan().schedule(k).principal_minor(), 20000);
    EXPECT_EQ(got.loan().schedule(k).interest_minor(), interest[k]);
    EXPECT_EQ(got.loan().schedule(k).due_ns(),
              got.loan().disbursed_ns() + static_cast<uint64_t>(k + 1) * 30 * kDayNs);
  }
  EXPECT_EQ(got.loan().group_id(), group);
  EXPECT_EQ(got.loan().outstanding_minor(), 80000);
  EXPECT_EQ(got.loan().interest_payable_minor(), 800);  // the first period has started
  EXPECT_EQ(got.loan().payoff_minor(), 80800);
  EXPECT_EQ(got.loan().days_past_due(), 0);
  EXPECT_EQ(got.loan().status(), v1::LOAN_STATUS_ACTIVE);

  // More than the payoff: refused, nothing written.
  v1::RepayLoanReply rep;
  ASSERT_TRUE(LOAN(L, RepayLoan, Repay(loan, 80801), rep).ok());
  EXPECT_EQ(rep.reason(), v1::REASON_OVERPAYMENT) << rep.detail();
  ASSERT_TRUE(LOAN(L, RepayLoan, Repay(999, 100), rep).ok());
  EXPECT_EQ(rep.reason(), v1::REASON_LOAN_NOT_FOUND);
  EXPECT_EQ(Count("transfers"), transfers + 1);

  // 208.00: interest 8.00 first (VAULT → FEES), then 200.00 of principal (LOANS → RESERVE).
  ASSERT_TRUE(LOAN(L, RepayLoan, Repay(loan, 20800), rep).ok());
  ASSERT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
  EXPECT_EQ(rep.legs(), 2u);
  EXPECT_EQ(rep.loan().interest_paid_minor(), 800);
  EXPECT_EQ(rep.loan().principal_repaid_minor(), 20000);
  EXPECT_EQ(rep.loan().outstanding_minor(), 60000);

  // Listings: by a group member (liable through the group), by the group, by status.
  v1::ListLoansRequest lq;
  lq.set_bank_id(net_.bank_a);
  lq.set_member_id(members_a_[2]);
  v1::ListLoansReply list;
  ASSERT_TRUE(LOAN(L, ListLoans, lq, list).ok());
  ASSERT_EQ(list.loans_size(), 1);
  EXPECT_EQ(list.loans(0).loan_id(), loan);
  EXPECT_EQ(list.loans(0).schedule_size(), 0);
  lq.set_member_id(members_a_[3]);  // not in the group
  ASSERT_TRUE(LOAN(L, ListLoans, lq, list).ok());
  EXPECT_EQ(list.loans_size(), 0);
  lq.set_member_id(0);
  lq.set_status(v1::LOAN_STATUS_REPAID);
  ASSERT_TRUE(LOAN(L, ListLoans, lq, list).ok());
  EXPECT_EQ(list.loans_size(), 0);
  lq.set_any_status(true);
  lq.set_group_id(group);
  ASSERT_TRUE(LOAN(L, ListLoans, lq, list).ok());
  EXPECT_EQ(list.loans_size(), 1);

  // A consumption loan in PALMA to the fourth member, minted to its account.
  v1::CreateLoanProductRequest social = Product(net_.bank_a, net_.cur_a, 50000);
  social.set_name("consumo");
  const uint64_t social_product = CreateProduct(L, social);
  ASSERT_TRUE(
      LOAN(L, DisburseLoan, Disburse(social_product, members_a_[3], 0, 30000, net_.a[3]), d).ok());
  ASSERT_EQ(d.reason(), v1::REASON_OK) << d.detail();
  const uint64_t social_loan = d.loan_id();
  EXPECT_EQ(BalanceOf(*admin_, net_.a[3]), 10000 + 30000);
  // Paged listing: one loan a page, two pages.
  lq = v1::ListLoansRequest();
  lq.set_bank_id(net_.bank_a);
  lq.set_page_size(1);
  ASSERT_TRUE(LOAN(L, ListLoans, lq, list).ok());
  ASSERT_EQ(list.loans_size(), 1);
  EXPECT_EQ(list.loans(0).loan_id(), loan);
  ASSERT_FALSE(list.next_page_token().empty());
  lq.set_page_token(list.next_page_token());
  ASSERT_TRUE(LOAN(L, ListLoans, lq, list).ok());
  ASSERT_EQ(list.loans_size(), 1);
  EXPECT_EQ(list.loans(0).loan_id(), social_loan);
  EXPECT_TRUE(list.next_page_token().empty());

  // The portfolio: both loans, by product and currency; nothing at risk yet.
  v1::GetPortfolioRequest pq;
  pq.set_bank_id(net_.bank_a);
  v1::GetPortfolioReply p;
  ASSERT_TRUE(LOAN(L, GetPortfolio, pq, p).ok());
  EXPECT_EQ(p.outstanding_minor(), 60000 + 30000);
  EXPECT_EQ(p.active_loans(), 2u);
  ASSERT_EQ(p.products_size(), 2);
  EXPECT_EQ(p.products(0).outstanding_minor(), 60000);
  EXPECT_EQ(p.products(1).outstanding_minor(), 30000);
  ASSERT_EQ(p.currencies_size(), 2);
  EXPECT_EQ(p.par30_bp(), 0);
  EXPECT_EQ(p.par90_bp(), 0);
  EXPECT_EQ(p.repayment_rate_bp(), 10000);

  // The audit: national loans in LOANS, social ones beside them, PAR30 once the bank lends.
  const v1::BankAudit a = AuditOf(net_.bank_a);
  EXPECT_EQ(a.loans_outstanding_minor(), 60000);
  EXPECT_EQ(a.social_loans_outstanding_minor(), 30000);
  EXPECT_TRUE(a.has_par30_bp());
  EXPECT_EQ(a.par30_bp(), 0);
  const v1::BankAudit b = AuditOf(net_.bank_b);
  EXPECT_FALSE(b.has_par30_bp());
  EXPECT_EQ(b.loans_outstanding_minor(), 0);

  // The consumption loan repaid in PALMA from the member's account, to the cent.
  ASSERT_TRUE(LOAN(L, RepayLoan, Repay(social_loan, 300, net_.a[3]), rep).ok());
  ASSERT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
  EXPECT_EQ(rep.loan().interest_paid_minor(), 300);
  EXPECT_EQ(BalanceOf(*admin_, net_.a[3]), 40000 - 300);

  // Write-off needs a reason and an admin; then the group's loss blocks its members.
  const std::string teller = Key(v1::ROLE_TELLER, net_.bank_a);
  Loans T(addr_, teller);
  v1::WriteOffLoanRequest w;
  w.set_request_id(NewId());
  w.set_loan_id(loan);
  w.set_reason("the group dissolved");
  v1::WriteOffLoanReply wr;
  EXPECT_EQ(LOAN(T, WriteOffLoan, w, wr).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(LOAN(L, WriteOffLoan, w, wr).ok());
  ASSERT_EQ(wr.reason(), v1::REASON_OK) << wr.detail();
  EXPECT_EQ(wr.legs(), 1u);
  ASSERT_TRUE(LOAN(L, GetLoan, g, got).ok());
  EXPECT_EQ(got.loan().status(), v1::LOAN_STATUS_WRITTEN_OFF);
  EXPECT_EQ(got.loan().written_off_minor(), 60000);
  EXPECT_EQ(got.loan().payoff_minor(), 0);
  EXPECT_EQ(AuditOf(net_.bank_a).loans_outstanding_minor(), 0);
  ASSERT_TRUE(LOAN(L, RepayLoan, Repay(loan, 100), rep).ok());
  EXPECT_EQ(rep.reason(), v1::REASON_LOAN_NOT_ACTIVE);
  const int64_t before = Count("transfers");
  ASSERT_TRUE(LOAN(T, DisburseLoan, Disburse(product, members_a_[1], 0, 1000), d).ok());
  EXPECT_EQ(d.reason(), v1::REASON_BORROWER_IN_ARREARS) << d.detail();
  EXPECT_EQ(Count("transfers"), before);
  // A member outside the group still borrows, through the teller.
  ASSERT_TRUE(LOAN(T, DisburseLoan, Disburse(product, members_a_[3], 0, 1000), d).ok());
  EXPECT_EQ(d.reason(), v1::REASON_OK) << d.detail();
  ASSERT_TRUE(LOAN(L, GetPortfolio, pq, p).ok());
  EXPECT_EQ(p.written_off_loans(), 1u);
  EXPECT_EQ(p.active_loans(), 2u);
}

TEST_F(LoansTest, MalformedRequestsNameTheFieldAndWriteNothing) {
  Start();
  Loans& L = *loans_;
  Fund(net_.bank_a, 100000);
  const uint64_t product = CreateProduct(L, Product(net_.bank_a, national_, 50000));
  const uint64_t group = CreateGroup(L, net_.bank_a, {members_a_[0], members_a_[1], members_a_[2]});
  v1::DisburseLoanReply d;
  ASSERT_TRUE(LOAN(L, DisburseLoan, Disburse(product, members_a_[3], 0, 10000), d).ok());
  ASSERT_EQ(d.reason(), v1::REASON_OK);
  const uint64_t loan = d.loan_id();
  const int64_t batches = Count("batches"), transfers = Count("transfers");

  auto expect_invalid = [&](const grpc::Status& s, const std::string& field) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_NE(s.error_message().find(field), std::string::npos) << s.error_message();
  };
  v1::CreateLoanProductReply pr;
  {
    auto q = Product(net_.bank_a, national_, 50000);
    q.set_request_id("short");
    expect_invalid(LOAN(L, CreateLoanProduct, q, pr), "request_id");
    q = Product(net_.bank_a, national_, 50000);
    q.set_monthly_rate_bp(101);  // above the 1%-a-month cap
    expect_invalid(LOAN(L, CreateLoanProduct, q, pr), "monthly_rate_bp");
    q = Product(net_.bank_a, national_, 50000);
    q.set_instalments(0);
    expect_invalid(LOAN(L, CreateLoanProduct, q, pr), "instalments");
    q = Product(net_.bank_a, national_, 50000);
    q.set_period_days(367);
    expect_invalid(LOAN(L, CreateLoanProduct, q, pr), "period_days");
    q = Product(net_.bank_a, national_, 0);
    expect_invalid(LOAN(L, CreateLoanProduct, q, pr), "max_principal_minor");
    q = Product(0, national_, 50000);
    expect_invalid(LOAN(L, CreateLoanProduct, q, pr), "bank_id");
    q = Product(net_.bank_a, national_, 50000);
    q.set_name("");
    expect_invalid(LOAN(L, CreateLoanProduct, q, pr), "name");
  }
  v1::CreateSolidarityGroupReply gr;
  {
    v1::CreateSolidarityGroupRequest q;
    q.set_request_id(NewId());
    q.set_bank_id(net_.bank_a);
    q.set_name("pair");
    q.add_member_ids(members_a_[0]);
    q.add_member_ids(members_a_[1]);
    q.add_liable_member_ids(members_a_[0]);
    q.add_liable_member_ids(members_a_[1]);
    expect_invalid(LOAN(L, CreateSolidarityGroup, q, gr), "members");  // 2 < 3
    q.add_member_ids(members_a_[1]);
    expect_invalid(LOAN(L, CreateSolidarityGroup, q, gr), "member_ids[2]");  // repeated
  }
  expect_invalid(LOAN(L, DisburseLoan, Disburse(product, members_a_[3], group, 100), d),
                 "member_id");  // both borrowers
  expect_invalid(LOAN(L, DisburseLoan, Disburse(product, 0, 0, 100), d), "member_id");
  expect_invalid(LOAN(L, DisburseLoan, Disburse(product, members_a_[3], 0, 0), d),
                 "principal_minor");
  expect_invalid(LOAN(L, DisburseLoan, Disburse(0, members_a_[3], 0, 100), d), "product_id");
  v1::RepayLoanReply rr;
  expect_invalid(LOAN(L, RepayLoan, Repay(loan, 0), rr), "amount_minor");
  expect_invalid(LOAN(L, RepayLoan, Repay(0, 100), rr), "loan_id");
  v1::WriteOffLoanRequest w;
  w.set_request_id(NewId());
  w.set_loan_id(loan);
  v1::WriteOffLoanReply wr;
  expect_invalid(LOAN(L, WriteOffLoan, w, wr), "reason");
  v1::GetLoanReply got;
  expect_invalid(LOAN(L, GetLoan, v1::GetLoanRequest(), got), "loan_id");
  v1::ListLoansRequest lq;
  v1::ListLoansReply list;
  expect_invalid(LOAN(L, ListLoans, lq, list), "bank_id");
  lq.set_bank_id(net_.bank_a);
  lq.set_page_size(1001);
  expect_invalid(LOAN(L, ListLoans, lq, list), "page_size");
  v1::GetPortfolioReply p;
  expect_invalid(LOAN(L, GetPortfolio, v1::GetPortfolioRequest(), p), "bank_id");

  EXPECT_EQ(Count("batches"), batches);
  EXPECT_EQ(Count("transfers"), transfers);
  // Unknown objects on reads: NOT_FOUND.
  v1::GetLoanRequest g;
  g.set_loan_id(999);
  EXPECT_EQ(LOAN(L, GetLoan, g, got).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::GetPortfolioRequest pq;
  pq.set_bank_id(999);
  EXPECT_EQ(LOAN(L, GetPortfolio, pq, p).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(LoansTest, TellersLendOnlyForTheirBankAndAuditorsOnlyRead) {
  Start();
  Fund(net_.bank_a, 100000);
  const uint64_t product = CreateProduct(*loans_, Product(net_.bank_a, national_, 50000));
  Loans teller_a(addr_, Key(v1::ROLE_TELLER, net_.bank_a));
  Loans teller_b(addr_, Key(v1::ROLE_TELLER, net_.bank_b));
  Loans auditor_a(addr_, Key(v1::ROLE_AUDITOR, net_.bank_a));
  const int64_t transfers = Count("transfers");

  v1::DisburseLoanReply d;
  const grpc::Status other =
      LOAN(teller_b, DisburseLoan, Disburse(product, members_a_[0], 0, 1000), d);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED) << other.error_message();
  const grpc::Status audit =
      LOAN(auditor_a, DisburseLoan, Disburse(product, members_a_[0], 0, 1000), d);
  EXPECT_EQ(audit.error_code(), grpc::StatusCode::PERMISSION_DENIED) << audit.error_message();
  v1::CreateLoanProductReply pr;
  EXPECT_EQ(
      LOAN(teller_b, CreateLoanProduct, Product(net_.bank_a, national_, 100), pr).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Count("transfers"), transfers);

  // Teller A lends and takes a repayment for its own bank; teller B cannot see it.
  ASSERT_TRUE(LOAN(teller_a, DisburseLoan, Disburse(product, members_a_[0], 0, 1000), d).ok());
  ASSERT_EQ(d.reason(), v1::REASON_OK) << d.detail();
  v1::RepayLoanReply rr;
  EXPECT_EQ(LOAN(teller_b, RepayLoan, Repay(d.loan_id(), 10), rr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(LOAN(teller_a, RepayLoan, Repay(d.loan_id(), 10), rr).ok());
  EXPECT_EQ(rr.reason(), v1::REASON_OK) << rr.detail();
  v1::GetLoanRequest g;
  g.set_loan_id(d.loan_id());
  v1::GetLoanReply got;
  EXPECT_TRUE(LOAN(auditor_a, GetLoan, g, got).ok());
  EXPECT_EQ(got.loan().interest_paid_minor(), 10);
  EXPECT_EQ(LOAN(teller_b, GetLoan, g, got).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::GetPortfolioRequest pq;
  pq.set_bank_id(net_.bank_a);
  v1::GetPortfolioReply p;
  EXPECT_TRUE(LOAN(auditor_a, GetPortfolio, pq, p).ok());
  EXPECT_EQ(p.outstanding_minor(), 1000);
  pq.set_bank_id(net_.bank_b);
  EXPECT_EQ(LOAN(auditor_a, GetPortfolio, pq, p).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
