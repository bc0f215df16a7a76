// SetoffService through a real aynid on a real PostgreSQL: invoices registered by the
// creditor's bank, confirmed by the debtor (its MEMBER key or its bank's teller, never
// another bank's), refusals as reasons and malformed input as INVALID_ARGUMENT, a dry run
// that writes nothing, a committed run with its retry, and the run and the invoices
// surviving a restart (rebuilt from the journal).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ayni/v1/setoff.grpc.pb.h"
#include "tests/server/service/aynid_harness.h"

namespace {

using namespace ayni;
using namespace ayni::test_support;

constexpr int64_t kDay = 20000;

// A SetoffService client with its own key.
struct Setoff {
  Setoff(const std::string& addr, std::string token) : token_(std::move(token)) {
    service =
        v1::SetoffService::NewStub(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
  }
  std::unique_ptr<grpc::ClientContext> Ctx() const {
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("authorization", "Bearer " + token_);
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return c;
  }
  grpc::Status Register(uint64_t debtor, uint64_t creditor, uint64_t currency, int64_t amount,
                        v1::RegisterInvoiceReply* rep, const std::string& reference = "NF-1") {
    v1::RegisterInvoiceRequest q;
    q.set_request_id(NewId());
    q.set_debtor_member_id(debtor);
    q.set_creditor_member_id(creditor);
    q.set_currency_id(currency);
    q.set_amount_minor(amount);
    q.set_due_day(kDay);
    q.set_reference(reference);
    return service->RegisterInvoice(Ctx().get(), q, rep);
  }
  grpc::Status Confirm(const std::string& invoice, v1::ConfirmInvoiceReply* rep) {
    v1::ConfirmInvoiceRequest q;
    q.set_request_id(NewId());
    q.set_invoice_id(invoice);
    return service->ConfirmInvoice(Ctx().get(), q, rep);
  }
  grpc::Status Dispute(const std::string& invoice, const std::string& reason,
                       v1::DisputeInvoiceReply* rep) {
    v1::DisputeInvoiceRequest q;
    q.set_request_id(NewId());
    q.set_invoice_id(invoice);
    q.set_reason(reason);
    return service->DisputeInvoice(Ctx().get(), q, rep);
  }
  grpc::Status List(uint64_t member, v1::ListInvoicesReply* rep, bool open_only = false,
                    uint32_t page_size = 0, const std::string& token = "") {
    v1::ListInvoicesRequest q;
    q.set_member_id(member);
    q.set_open_only(open_only);
    q.set_page_size(page_size);
    q.set_page_token(token);
    return service->ListInvoices(Ctx().get(), q, rep);
  }
  grpc::Status Run(const std::string& run_id, bool dry, v1::RunSetoffReply* rep) {
    v1::RunSetoffRequest q;
    q.set_request_id(run_id);
    q.set_cutoff_day(kDay);
    q.set_dry_run(dry);
    return service->RunSetoff(Ctx().get(), q, rep);
  }
  std::unique_ptr<v1::SetoffService::Stub> service;

 private:
  std::string token_;
};

class SetoffTest : public AynidFixture {
 protected:
  std::unique_ptr<Aynid> Start() {
    auto a = std::make_unique<Aynid>(dsn_, key_file_);
    addr_ = a->WaitListening();
    EXPECT_FALSE(addr_.empty());
    return a;
  }
  std::string Key(Client& admin, v1::Role role, v1::ScopeKind kind, uint64_t id) {
    v1::CreateApiKeyRequest q;
    q.set_request_id(NewId());
    q.set_role(role);
    q.mutable_scope()->set_kind(kind);
    q.mutable_scope()->set_id(id);
    q.set_label("setoff-test");
    v1::CreateApiKeyReply rep;
    AYNI_EXPECT_OK(RPC(admin, setup, CreateApiKey, q, rep));
    return rep.token();
  }
  uint64_t OwnerOf(Client& admin, uint64_t account) {
    v1::GetAccountRequest g;
    g.set_account_id(account);
    v1::GetAccountReply rep;
    AYNI_EXPECT_OK(RPC(admin, ledger, GetAccount, g, rep));
    return rep.account().owner_member_id();
  }
  std::string addr_;
};

const v1::SetoffNotice* NoticeOf(const v1::SetoffReport& r, const std::string& invoice) {
  for (const auto& n : r.notices()) {
    if (n.invoice_id() == invoice) return &n;
  }
  return nullptr;
}

TEST_F(SetoffTest, InvoicesRolesRefusalsAndARunThatSurvivesARestart) {
  auto server = Start();
  Client admin(addr_, ReadKey());
  const SmallNetwork n = BuildNetwork(admin, 2, 10000);
  const uint64_t a0 = OwnerOf(admin, n.a[0]), a1 = OwnerOf(admin, n.a[1]);
  const uint64_t b0 = OwnerOf(admin, n.b[0]);
  Setoff root(addr_, ReadKey());
  Setoff teller_a(addr_, Key(admin, v1::ROLE_TELLER, v1::SCOPE_KIND_BANK, n.bank_a));
  Setoff teller_b(addr_, Key(admin, v1::ROLE_TELLER, v1::SCOPE_KIND_BANK, n.bank_b));
  Setoff member_a0(addr_, Key(admin, v1::ROLE_MEMBER, v1::SCOPE_KIND_ACCOUNT, n.a[0]));
  Setoff clearing(addr_, Key(admin, v1::ROLE_CLEARING, v1::SCOPE_KIND_DEPLOYMENT, 0));
  Setoff auditor(addr_, Key(admin, v1::ROLE_AUDITOR, v1::SCOPE_KIND_DEPLOYMENT, 0));

  // A 3-cycle in PALMA: a0 owes a1 100.00, a1 owes b0 70.00, b0 owes a0 50.00. Each is
  // registered by the creditor's bank.
  v1::RegisterInvoiceReply r01, r1b, rb0;
  AYNI_EXPECT_OK(teller_a.Register(a0, a1, n.cur_a, 10000, &r01));
  ASSERT_EQ(r01.reason(), v1::REASON_OK) << r01.detail();
  EXPECT_EQ(r01.invoice().status(), v1::INVOICE_STATUS_REGISTERED);
  EXPECT_EQ(r01.invoice().remainder_minor(), 10000);
  EXPECT_EQ(r01.invoice().currency_code(), "PALMA");
  AYNI_EXPECT_OK(teller_b.Register(a1, b0, n.cur_a, 7000, &r1b));
  ASSERT_EQ(r1b.reason(), v1::REASON_OK) << r1b.detail();
  AYNI_EXPECT_OK(teller_a.Register(b0, a0, n.cur_a, 5000, &rb0));
  ASSERT_EQ(rb0.reason(), v1::REASON_OK) << rb0.detail();
  const std::string i01 = r01.invoice().invoice_id(), i1b = r1b.invoice().invoice_id(),
                    ib0 = rb0.invoice().invoice_id();

  // Registration refusals: another bank's creditor, bad input, unknown currency.
  v1::RegisterInvoiceReply bad;
  grpc::Status s = teller_b.Register(a0, a1, n.cur_a, 100, &bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  s = member_a0.Register(a1, a0, n.cur_a, 100, &bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  s = teller_a.Register(a0, a1, n.cur_a, 0, &bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("amount_minor"), std::string::npos) << s.error_message();
  s = teller_a.Register(a0, a1, n.cur_a, 100, &bad, std::string(65, 'x'));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("reference"), std::string::npos) << s.error_message();
  s = teller_a.Register(a0, a1, n.cur_a, 100, &bad, "line\nbreak");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("invalid_reference"), std::string::npos) << s.error_message();
  AYNI_EXPECT_OK(teller_a.Register(a0, a1, 999, 100, &bad));
  EXPECT_EQ(bad.reason(), v1::REASON_CURRENCY_NOT_FOUND);
  EXPECT_EQ(bad.detail(), "currency");

  // Confirmations: a0 with its MEMBER key; a1 by its bank's teller; b0's invoice not by
  // bank A's teller (another bank's member), then by bank B's.
  v1::ConfirmInvoiceReply c;
  s = member_a0.Confirm(i1b, &c);  // a1 owes it, not a0
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  AYNI_EXPECT_OK(member_a0.Confirm(i01, &c));
  EXPECT_EQ(c.reason(), v1::REASON_OK) << c.detail();
  EXPECT_EQ(c.invoice().status(), v1::INVOICE_STATUS_CONFIRMED);
  AYNI_EXPECT_OK(teller_a.Confirm(i1b, &c));
  EXPECT_EQ(c.reason(), v1::REASON_OK) << c.detail();
  s = teller_a.Confirm(ib0, &c);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  AYNI_EXPECT_OK(teller_b.Confirm(ib0, &c));
  EXPECT_EQ(c.reason(), v1::REASON_OK) << c.detail();
  AYNI_EXPECT_OK(teller_b.Confirm(ib0, &c));
  EXPECT_EQ(c.reason(), v1::REASON_INVOICE_WRONG_STATE);
  AYNI_EXPECT_OK(root.Confirm(std::string(16, '\x07'), &c));
  EXPECT_EQ(c.reason(), v1::REASON_INVOICE_NOT_FOUND);
  s = root.Confirm(std::string(15, '\x07'), &c);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("invoice_id"), std::string::npos) << s.error_message();

  // A disputed invoice (b0 owes a1 30.00) never enters the run.
  v1::RegisterInvoiceReply rd;
  AYNI_EXPECT_OK(teller_a.Register(b0, a1, n.cur_a, 3000, &rd));
  v1::DisputeInvoiceReply d;
  s = teller_b.Dispute(rd.invoice().invoice_id(), "", &d);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("reason"), std::string::npos) << s.error_message();
  AYNI_EXPECT_OK(teller_b.Dispute(rd.invoice().invoice_id(), "never delivered", &d));
  EXPECT_EQ(d.reason(), v1::REASON_OK) << d.detail();
  EXPECT_EQ(d.invoice().status(), v1::INVOICE_STATUS_DISPUTED);

  // Lists: a member sees its owner's invoices; a bank key needs a member of its bank.
  v1::ListInvoicesReply list;
  AYNI_EXPECT_OK(member_a0.List(a0, &list));
  EXPECT_EQ(list.invoices_size(), 2);  // a0 → a1 and b0 → a0
  s = member_a0.List(a1, &list);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = teller_a.List(0, &list);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  list.Clear();
  AYNI_EXPECT_OK(auditor.List(0, &list, false, 3));
  EXPECT_EQ(list.invoices_size(), 3);
  ASSERT_FALSE(list.next_page_token().empty());
  v1::ListInvoicesReply rest;
  AYNI_EXPECT_OK(auditor.List(0, &rest, false, 3, list.next_page_token()));
  EXPECT_EQ(rest.invoices_size(), 1);
  EXPECT_TRUE(rest.next_page_token().empty());

  // Running: a teller may not; a dry run writes nothing; the run commits once.
  v1::RunSetoffReply run;
  s = teller_a.Run(NewId(), true, &run);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = auditor.Run(NewId(), true, &run);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  const int64_t batches = Count("batches");
  const std::string run_id = NewId();
  AYNI_EXPECT_OK(clearing.Run(run_id, true, &run));
  EXPECT_EQ(run.reason(), v1::REASON_OK) << run.detail();
  EXPECT_TRUE(run.report().dry_run());
  EXPECT_EQ(run.report().number(), 0u);
  EXPECT_EQ(run.report().notices_size(), 3);
  EXPECT_EQ(Count("batches"), batches);
  v1::GetSetoffRunRequest latest;
  latest.set_latest(true);
  v1::GetSetoffRunReply got;
  s = clearing.service->GetSetoffRun(clearing.Ctx().get(), latest, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);

  AYNI_EXPECT_OK(clearing.Run(run_id, false, &run));
  ASSERT_EQ(run.reason(), v1::REASON_OK) << run.detail();
  EXPECT_EQ(Count("batches"), batches + 1);
  const v1::SetoffReport& rep = run.report();
  EXPECT_FALSE(rep.dry_run());
  EXPECT_EQ(rep.number(), 1u);
  EXPECT_EQ(rep.run_id(), run_id);
  ASSERT_EQ(rep.notices_size(), 3);
  ASSERT_NE(NoticeOf(rep, i01), nullptr);
  EXPECT_EQ(NoticeOf(rep, i01)->set_off_minor(), 5000);
  EXPECT_EQ(NoticeOf(rep, i01)->remainder_minor(), 5000);
  EXPECT_EQ(NoticeOf(rep, i1b)->remainder_minor(), 2000);
  EXPECT_EQ(NoticeOf(rep, ib0)->remainder_minor(), 0);
  ASSERT_EQ(rep.currencies_size(), 1);
  EXPECT_EQ(rep.currencies(0).gross_minor(), 22000);
  EXPECT_EQ(rep.currencies(0).set_off_minor(), 15000);
  EXPECT_EQ(rep.currencies(0).remaining_minor(), 7000);
  EXPECT_EQ(rep.currencies(0).currency_code(), "PALMA");
  EXPECT_EQ(rep.head().sequence(), static_cast<uint64_t>(batches + 1));

  // The retry answers the original report; nothing more is written.
  v1::RunSetoffReply again;
  AYNI_EXPECT_OK(clearing.Run(run_id, false, &again));
  EXPECT_EQ(again.reason(), v1::REASON_EXISTS);
  EXPECT_EQ(again.report().number(), 1u);
  EXPECT_EQ(again.report().notices_size(), 3);
  EXPECT_EQ(Count("batches"), batches + 1);

  // After a restart the run and the remainders are rebuilt from the journal.
  server.reset();
  server = Start();
  Setoff auditor2(addr_, ReadKey());
  v1::GetSetoffRunRequest by_id;
  by_id.set_run_id(run_id);
  AYNI_EXPECT_OK(auditor2.service->GetSetoffRun(auditor2.Ctx().get(), by_id, &got));
  EXPECT_EQ(got.report().number(), 1u);
  ASSERT_EQ(got.report().notices_size(), 3);
  ASSERT_NE(NoticeOf(got.report(), i1b), nullptr);
  EXPECT_EQ(NoticeOf(got.report(), i1b)->set_off_minor(), 5000);
  v1::ListInvoicesReply open;
  AYNI_EXPECT_OK(auditor2.List(0, &open, true));
  EXPECT_EQ(open.invoices_size(), 3);  // the two with a remainder, and the disputed one
  for (const auto& inv : open.invoices()) {
    if (inv.invoice_id() == i01) {
      EXPECT_EQ(inv.remainder_minor(), 5000);
    }
    if (inv.invoice_id() == i1b) {
      EXPECT_EQ(inv.remainder_minor(), 2000);
    }
    EXPECT_NE(inv.invoice_id(), ib0);
  }
}

}  // namespace
