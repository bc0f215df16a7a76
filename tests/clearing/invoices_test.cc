// The invoice book and set-off runs in the ledger (clearing/invoices.h): every command
// and refusal, runs on hand-computed graphs, dry runs, idempotency, mutual credit within
// limits, abort, and the restore round trip.
#include "clearing/invoices.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "clearing/ledger.h"
#include "clearing/limits.h"
#include "tests/clearing/ledger_compare.h"
#include "tests/clearing/ledger_fixture.h"

namespace ayni {
namespace {

constexpr int64_t kDay = 20000;  // 2024-10-04

class InvoicesTest : public ::testing::Test {
 protected:
  void SetUp() override { n.Build(); }

  RegisterInvoiceCmd Inv(MemberId debtor, MemberId creditor, int64_t amount,
                         CurrencyId currency = CurrencyId(), int64_t due = kDay) {
    RegisterInvoiceCmd c;
    c.request = n.Next();
    c.debtor = debtor;
    c.creditor = creditor;
    c.currency = currency.valid() ? currency : n.palma;
    c.amount = Amount(amount);
    c.due_day = due;
    c.reference = "NF-" + std::to_string(c.request.Halves().second);
    return c;
  }
  // Registers and confirms in one batch; returns the invoice id.
  InvoiceId Confirmed(MemberId debtor, MemberId creditor, int64_t amount,
                      CurrencyId currency = CurrencyId(), int64_t due = kDay) {
    const RegisterInvoiceCmd c = Inv(debtor, creditor, amount, currency, due);
    n.Begin();
    EXPECT_EQ(n.ledger.RegisterInvoice(c).outcome, Outcome::kOk);
    const InvoiceId id(c.request.bytes());
    EXPECT_EQ(n.ledger.ConfirmInvoice({n.Next(), id}).outcome, Outcome::kOk);
    n.Seal();
    return id;
  }
  OpResult Run(const RunSetoffCmd& c, SetoffRun* report) {
    n.Begin();
    OpResult r = n.ledger.RunSetoff(c, report);
    n.Seal();
    return r;
  }
  Amount Remainder(const InvoiceId& id) const { return n.ledger.FindInvoice(id)->remainder; }
  static const SetoffRunNotice& NoticeOf(const SetoffRun& run, const InvoiceId& id) {
    for (const SetoffRunNotice& x : run.notices) {
      if (x.invoice == id) return x;
    }
    ADD_FAILURE() << "no notice for invoice " << id.ToHex();
    return run.notices.front();
  }

  Network n;
};

TEST_F(InvoicesTest, RegisterConfirmDispute) {
  const RegisterInvoiceCmd c = Inv(n.ana, n.bia, 12345);
  n.Begin();
  const OpResult r = n.ledger.RegisterInvoice(c);
  ASSERT_EQ(r.outcome, Outcome::kOk) << r.detail;
  n.Seal();
  const InvoiceId id(c.request.bytes());  // no explicit id: the request's
  const InvoiceRecord* inv = n.ledger.FindInvoice(id);
  ASSERT_NE(inv, nullptr);
  EXPECT_EQ(inv->status, InvoiceStatus::kRegistered);
  EXPECT_EQ(inv->debtor, n.ana);
  EXPECT_EQ(inv->creditor, n.bia);
  EXPECT_EQ(inv->amount, Amount(12345));
  EXPECT_EQ(inv->remainder, Amount(12345));
  EXPECT_EQ(inv->due_day, kDay);
  EXPECT_EQ(inv->reference, c.reference);

  EXPECT_EQ(n.One([&](RequestId q) {
               return n.ledger.ConfirmInvoice({q, id});
             }).outcome,
            Outcome::kOk);
  EXPECT_EQ(n.ledger.FindInvoice(id)->status, InvoiceStatus::kConfirmed);

  RegisterInvoiceCmd d = Inv(n.bia, n.caio, 500);
  d.invoice = InvoiceId::FromParts(7, 7);  // an explicit id
  EXPECT_EQ(n.One([&](RequestId) { return n.ledger.RegisterInvoice(d); }).outcome, Outcome::kOk);
  EXPECT_EQ(n.ledger.FindInvoice(InvoiceId(d.request.bytes())), nullptr);
  EXPECT_EQ(n.One([&](RequestId q) {
               return n.ledger.DisputeInvoice({q, d.invoice, "goods never delivered"});
             }).outcome,
            Outcome::kOk);
  EXPECT_EQ(n.ledger.FindInvoice(d.invoice)->status, InvoiceStatus::kDisputed);
  EXPECT_EQ(n.ledger.FindInvoice(d.invoice)->dispute_reason, "goods never delivered");
  EXPECT_EQ(n.ledger.invoices().size(), 2u);
  n.ExpectClean();
}

TEST_F(InvoicesTest, RegisterIsIdempotentByRequestId) {
  const RegisterInvoiceCmd c = Inv(n.ana, n.bia, 1000);
  ASSERT_EQ(n.One([&](RequestId) { return n.ledger.RegisterInvoice(c); }).outcome, Outcome::kOk);
  const OpResult again = n.One([&](RequestId) { return n.ledger.RegisterInvoice(c); });
  EXPECT_EQ(again.outcome, Outcome::kExists);
  EXPECT_EQ(n.ledger.invoices().size(), 1u);

  struct Case {
    const char* field;
    void (*change)(RegisterInvoiceCmd&);
  };
  const Case cases[] = {
      {"amount", [](RegisterInvoiceCmd& x) { x.amount = Amount(999); }},
      {"debtor", [](RegisterInvoiceCmd& x) { x.debtor = MemberId(3); }},
      {"due_day", [](RegisterInvoiceCmd& x) { x.due_day += 1; }},
      {"reference", [](RegisterInvoiceCmd& x) { x.reference = "other"; }},
      {"invoice_id", [](RegisterInvoiceCmd& x) { x.invoice = InvoiceId::FromParts(1, 2); }},
  };
  for (const Case& k : cases) {
    RegisterInvoiceCmd changed = c;
    k.change(changed);
    const OpResult r = n.One([&](RequestId) { return n.ledger.RegisterInvoice(changed); });
    EXPECT_EQ(r.outcome, Outcome::kExistsWithDifferentFields) << k.field;
    EXPECT_STREQ(r.detail, k.field);
  }
}

TEST_F(InvoicesTest, RegisterRefusals) {
  struct Case {
    const char* name;
    void (*change)(RegisterInvoiceCmd&);
    Outcome outcome;
    const char* detail;
  };
  const Case cases[] = {
      {"zero amount", [](RegisterInvoiceCmd& x) { x.amount = Amount(0); },
       Outcome::kAmountNotPositive, "amount"},
      {"negative amount", [](RegisterInvoiceCmd& x) { x.amount = Amount(-5); },
       Outcome::kAmountNotPositive, "amount"},
      {"negative day", [](RegisterInvoiceCmd& x) { x.due_day = -1; }, Outcome::kInvalidDueDate,
       "due_day"},
      {"day past 9999", [](RegisterInvoiceCmd& x) { x.due_day = kUnixDayMax + 1; },
       Outcome::kInvalidDueDate, "due_day"},
      {"long reference", [](RegisterInvoiceCmd& x) { x.reference = std::string(65, 'x'); },
       Outcome::kInvalidReference, "reference"},
      {"control character", [](RegisterInvoiceCmd& x) { x.reference = "a\nb"; },
       Outcome::kInvalidReference, "reference"},
      {"not UTF-8", [](RegisterInvoiceCmd& x) { x.reference = "\xff"; }, Outcome::kInvalidReference,
       "reference"},
      {"self-invoice", [](RegisterInvoiceCmd& x) { x.creditor = x.debtor; }, Outcome::kSelfInvoice,
       "creditor"},
      {"unknown debtor", [](RegisterInvoiceCmd& x) { x.debtor = MemberId(99); },
       Outcome::kMemberNotFound, "debtor"},
      {"unknown creditor", [](RegisterInvoiceCmd& x) { x.creditor = MemberId(99); },
       Outcome::kMemberNotFound, "creditor"},
      {"unknown currency", [](RegisterInvoiceCmd& x) { x.currency = CurrencyId(99); },
       Outcome::kCurrencyNotFound, "currency"},
      {"zero request", [](RegisterInvoiceCmd& x) { x.request = RequestId(); },
       Outcome::kRequestIdZero, ""},
  };
  for (const Case& k : cases) {
    RegisterInvoiceCmd c = Inv(n.ana, n.bia, 100);
    k.change(c);
    n.Begin();
    const OpResult r = n.ledger.RegisterInvoice(c);
    n.ledger.AbortBatch();
    EXPECT_EQ(r.outcome, k.outcome) << k.name;
    EXPECT_STREQ(r.detail, k.detail) << k.name;
  }
  EXPECT_TRUE(n.ledger.invoices().empty());
  EXPECT_TRUE(IsInvalidInput(Outcome::kSelfInvoice));
  EXPECT_TRUE(IsInvalidInput(Outcome::kInvalidDueDate));
  EXPECT_TRUE(IsInvalidInput(Outcome::kInvalidReference));
  EXPECT_FALSE(IsInvalidInput(Outcome::kInvoiceWrongState));

  // An explicit id that another request registered.
  RegisterInvoiceCmd first = Inv(n.ana, n.bia, 100);
  first.invoice = InvoiceId::FromParts(5, 5);
  ASSERT_EQ(n.One([&](RequestId) { return n.ledger.RegisterInvoice(first); }).outcome,
            Outcome::kOk);
  RegisterInvoiceCmd second = Inv(n.ana, n.bia, 100);
  second.invoice = first.invoice;
  const OpResult r = n.One([&](RequestId) { return n.ledger.RegisterInvoice(second); });
  EXPECT_EQ(r.outcome, Outcome::kInvoiceExists);
  EXPECT_STREQ(r.detail, "invoice_id");
}

TEST_F(InvoicesTest, DecisionRefusals) {
  const InvoiceId confirmed = Confirmed(n.ana, n.bia, 100);
  const auto confirm = [&](InvoiceId id) {
    return n.One([&](RequestId q) { return n.ledger.ConfirmInvoice({q, id}); });
  };
  const auto dispute = [&](InvoiceId id, std::string reason) {
    return n.One([&](RequestId q) { return n.ledger.DisputeInvoice({q, id, reason}); });
  };
  EXPECT_EQ(confirm(InvoiceId::FromParts(9, 9)).outcome, Outcome::kInvoiceNotFound);
  EXPECT_EQ(dispute(InvoiceId::FromParts(9, 9), "no").outcome, Outcome::kInvoiceNotFound);
  EXPECT_EQ(confirm(confirmed).outcome, Outcome::kInvoiceWrongState);
  EXPECT_EQ(dispute(confirmed, "changed my mind").outcome, Outcome::kInvoiceWrongState);

  const RegisterInvoiceCmd c = Inv(n.bia, n.caio, 100);
  ASSERT_EQ(n.One([&](RequestId) { return n.ledger.RegisterInvoice(c); }).outcome, Outcome::kOk);
  const InvoiceId id(c.request.bytes());
  EXPECT_EQ(dispute(id, "").outcome, Outcome::kInvalidReason);
  EXPECT_EQ(dispute(id, std::string(kReasonBytesMax + 1, 'r')).outcome, Outcome::kInvalidReason);
  const ConfirmInvoiceCmd ok{n.Next(), id};
  EXPECT_EQ(n.One([&](RequestId) { return n.ledger.ConfirmInvoice(ok); }).outcome, Outcome::kOk);
  // The same request again: the original answer; another invoice under it: named.
  EXPECT_EQ(n.One([&](RequestId) { return n.ledger.ConfirmInvoice(ok); }).outcome,
            Outcome::kExists);
  const OpResult other = n.One([&](RequestId) {
    return n.ledger.ConfirmInvoice({ok.request, confirmed});
  });
  EXPECT_EQ(other.outcome, Outcome::kExistsWithDifferentFields);
  EXPECT_STREQ(other.detail, "invoice_id");
  EXPECT_EQ(dispute(id, "too late").outcome, Outcome::kInvoiceWrongState);
  EXPECT_EQ(n.ledger.FindInvoice(id)->status, InvoiceStatus::kConfirmed);
}

// A 3-cycle Ana → Bia → Caio → Ana (100, 70, 50: "A → B" means A owes B) plus invoices
// that must stay out: unconfirmed, disputed, due after the cut-off, another currency.
TEST_F(InvoicesTest, ThreeCycleIsSetOffAndOnlyEligibleInvoicesEnter) {
  const InvoiceId ab = Confirmed(n.ana, n.bia, 10000);
  const InvoiceId bc = Confirmed(n.bia, n.caio, 7000);
  const InvoiceId ca = Confirmed(n.caio, n.ana, 5000);
  const InvoiceId late = Confirmed(n.caio, n.ana, 4000, n.palma, kDay + 1);
  const InvoiceId sol = Confirmed(n.caio, n.ana, 4000, n.sol);
  const RegisterInvoiceCmd pending = Inv(n.caio, n.ana, 3000);
  ASSERT_EQ(n.One([&](RequestId) { return n.ledger.RegisterInvoice(pending); }).outcome,
            Outcome::kOk);
  const RegisterInvoiceCmd disputed = Inv(n.caio, n.ana, 3000);
  ASSERT_EQ(n.One([&](RequestId) { return n.ledger.RegisterInvoice(disputed); }).outcome,
            Outcome::kOk);
  ASSERT_EQ(n.One([&](RequestId q) {
               return n.ledger.DisputeInvoice({q, InvoiceId(disputed.request.bytes()), "wrong"});
             }).outcome,
            Outcome::kOk);

  const RunSetoffCmd cmd{n.Next(), kDay, n.palma, false};
  // The dry run first: same report, nothing written.
  const uint64_t seq = n.ledger.batch_sequence();
  const Hash256 head = n.ledger.head();
  SetoffRun dry;
  ASSERT_EQ(n.ledger.DryRunSetoff(cmd, &dry).outcome, Outcome::kOk);
  EXPECT_EQ(n.ledger.batch_sequence(), seq);
  EXPECT_EQ(n.ledger.head(), head);
  EXPECT_FALSE(n.ledger.batch_open());
  EXPECT_EQ(Remainder(ab), Amount(10000));
  EXPECT_TRUE(n.ledger.setoff_runs().empty());
  EXPECT_EQ(dry.number, 0u);

  SetoffRun run;
  const OpResult r = Run(cmd, &run);
  ASSERT_EQ(r.outcome, Outcome::kOk) << r.detail;
  EXPECT_EQ(r.id, 1u);
  EXPECT_EQ(r.legs, 0u);
  ASSERT_EQ(run.notices.size(), 3u);  // only the three confirmed PALMA invoices due
  EXPECT_EQ(NoticeOf(run, ab).set_off, Amount(5000));
  EXPECT_EQ(NoticeOf(run, ab).remainder, Amount(5000));
  EXPECT_EQ(NoticeOf(run, bc).set_off, Amount(5000));
  EXPECT_EQ(NoticeOf(run, bc).remainder, Amount(2000));
  EXPECT_EQ(NoticeOf(run, ca).set_off, Amount(5000));
  EXPECT_EQ(NoticeOf(run, ca).remainder, Amount(0));
  ASSERT_EQ(run.currencies.size(), 1u);
  const SetoffRunCurrency& cur = run.currencies[0];
  EXPECT_EQ(cur.currency, n.palma);
  EXPECT_EQ(cur.gross, Amount(22000));
  EXPECT_EQ(cur.set_off, Amount(15000));
  EXPECT_EQ(cur.after_setoff, Amount(7000));
  EXPECT_EQ(cur.remaining, Amount(7000));
  EXPECT_EQ(cur.mutual_credit, Amount(0));
  EXPECT_EQ(cur.net_balance, Amount(5000));  // Bia: +10000 − 7000; Caio: +2000

  EXPECT_EQ(Remainder(ab), Amount(5000));
  EXPECT_EQ(Remainder(bc), Amount(2000));
  EXPECT_EQ(Remainder(ca), Amount(0));
  EXPECT_EQ(Remainder(late), Amount(4000));
  EXPECT_EQ(Remainder(sol), Amount(4000));
  // The dry run predicted exactly this.
  ASSERT_EQ(dry.notices.size(), run.notices.size());
  for (size_t i = 0; i < dry.notices.size(); ++i) {
    EXPECT_EQ(dry.notices[i].invoice, run.notices[i].invoice);
    EXPECT_EQ(dry.notices[i].set_off, run.notices[i].set_off);
    EXPECT_EQ(dry.notices[i].remainder, run.notices[i].remainder);
  }
  ASSERT_NE(n.ledger.FindSetoffRun(cmd.request), nullptr);
  EXPECT_EQ(n.ledger.FindSetoffRun(cmd.request)->number, 1u);

  // A retry answers the original run; other fields under the run id are named.
  SetoffRun again;
  const OpResult retry = Run(cmd, &again);
  EXPECT_EQ(retry.outcome, Outcome::kExists);
  EXPECT_EQ(again.notices.size(), 3u);
  EXPECT_EQ(NoticeOf(again, bc).remainder, Amount(2000));
  EXPECT_EQ(n.ledger.setoff_runs().size(), 1u);
  RunSetoffCmd other = cmd;
  other.cutoff_day += 1;
  const OpResult differs = Run(other, nullptr);
  EXPECT_EQ(differs.outcome, Outcome::kExistsWithDifferentFields);
  EXPECT_STREQ(differs.detail, "cutoff_day");

  // A second run over what is left (a chain Ana → Bia → Caio) sets nothing off.
  SetoffRun second;
  ASSERT_EQ(Run({n.Next(), kDay, n.palma, false}, &second).outcome, Outcome::kOk);
  EXPECT_EQ(second.number, 2u);
  ASSERT_EQ(second.notices.size(), 2u);  // the invoice at 0 no longer enters
  EXPECT_EQ(second.currencies[0].set_off, Amount(0));
  EXPECT_EQ(Remainder(ab), Amount(5000));
  n.ExpectClean();
}

// Equal debts around a 3-cycle cancel completely: nobody pays anything.
TEST_F(InvoicesTest, EqualThreeCycleIsFullyCleared) {
  const InvoiceId ab = Confirmed(n.ana, n.bia, 4000);
  const InvoiceId bc = Confirmed(n.bia, n.caio, 4000);
  const InvoiceId ca = Confirmed(n.caio, n.ana, 4000);
  SetoffRun run;
  const OpResult r = Run({n.Next(), kDay, CurrencyId(), true}, &run);
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(r.legs, 0u);
  for (const InvoiceId& id : {ab, bc, ca}) {
    EXPECT_EQ(NoticeOf(run, id).set_off, Amount(4000));
    EXPECT_EQ(Remainder(id), Amount(0));
  }
  ASSERT_EQ(run.currencies.size(), 1u);
  EXPECT_EQ(run.currencies[0].gross, Amount(12000));
  EXPECT_EQ(run.currencies[0].remaining, Amount(0));
  EXPECT_EQ(run.currencies[0].net_balance, Amount(0));
  // Nothing is left to enter a later run.
  SetoffRun later;
  ASSERT_EQ(Run({n.Next(), kDay, CurrencyId(), false}, &later).outcome, Outcome::kOk);
  EXPECT_TRUE(later.notices.empty());
  n.ExpectClean();
}

TEST_F(InvoicesTest, RunRefusals) {
  SetoffRun report;
  EXPECT_EQ(n.ledger.DryRunSetoff({n.Next(), -1, CurrencyId(), false}, &report).outcome,
            Outcome::kInvalidDueDate);
  const OpResult unknown = n.ledger.DryRunSetoff({n.Next(), kDay, CurrencyId(99), false}, &report);
  EXPECT_EQ(unknown.outcome, Outcome::kCurrencyNotFound);
  EXPECT_STREQ(unknown.detail, "currency");
  n.Begin();
  EXPECT_EQ(n.ledger.RunSetoff({RequestId(), kDay, CurrencyId(), false}).outcome,
            Outcome::kRequestIdZero);
  EXPECT_EQ(n.ledger.RunSetoff({n.Next(), kUnixDayMax + 1, CurrencyId(), false}).outcome,
            Outcome::kInvalidDueDate);
  n.ledger.AbortBatch();
  EXPECT_TRUE(n.ledger.setoff_runs().empty());
}

// FEIRA (mutual credit, limit 50.00): Ana owes Caio 90.00, Caio owes Ana 30.00. Set-off
// cancels 30.00; Ana pays 50.00 of the remaining 60.00 with mutual credit, down to her
// limit; 10.00 stays owed. A PALMA invoice (guaranteed currency) is never paid this way.
TEST_F(InvoicesTest, MutualCreditPaysWithinLimits) {
  const InvoiceId ac = Confirmed(n.ana, n.caio, 9000, n.feira);
  const InvoiceId ca = Confirmed(n.caio, n.ana, 3000, n.feira);
  const InvoiceId palma = Confirmed(n.ana, n.caio, 1000, n.palma);
  const RunSetoffCmd cmd{n.Next(), kDay, CurrencyId(), true};
  SetoffRun dry;
  ASSERT_EQ(n.ledger.DryRunSetoff(cmd, &dry).outcome, Outcome::kOk);
  EXPECT_EQ(n.Balance(n.ana_feira), Amount(0));
  EXPECT_EQ(dry.payments, 1u);

  n.Begin();
  SetoffRun run;
  const OpResult r = n.ledger.RunSetoff(cmd, &run);
  ASSERT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome) << " " << r.detail;
  const SealedBatch b = n.Seal();
  EXPECT_EQ(r.legs, 1u);
  ASSERT_EQ(b.transfers.size(), 1u);
  EXPECT_EQ(b.transfers[0].code, TransferCode::kPayment);
  EXPECT_EQ(b.transfers[0].debit, n.ana_feira);
  EXPECT_EQ(b.transfers[0].credit, n.caio_feira);
  EXPECT_EQ(b.transfers[0].amount, Amount(5000));
  EXPECT_EQ(b.transfers[0].id, DeriveTransferId(cmd.request, 0));
  EXPECT_EQ(n.Balance(n.ana_feira), Amount(-5000));
  EXPECT_EQ(n.Balance(n.caio_feira), Amount(5000));

  EXPECT_EQ(NoticeOf(run, ac).set_off, Amount(3000));
  EXPECT_EQ(NoticeOf(run, ac).mutual_credit, Amount(5000));
  EXPECT_EQ(NoticeOf(run, ac).remainder, Amount(1000));
  EXPECT_EQ(NoticeOf(run, ca).remainder, Amount(0));
  EXPECT_EQ(NoticeOf(run, palma).mutual_credit, Amount(0));
  EXPECT_EQ(Remainder(ac), Amount(1000));
  EXPECT_EQ(Remainder(palma), Amount(1000));
  ASSERT_EQ(run.currencies.size(), 2u);
  const SetoffRunCurrency& feira =
      run.currencies[0].currency == n.feira ? run.currencies[0] : run.currencies[1];
  EXPECT_EQ(feira.gross, Amount(12000));
  EXPECT_EQ(feira.after_setoff, Amount(6000));
  EXPECT_EQ(feira.mutual_credit, Amount(5000));
  EXPECT_EQ(feira.remaining, Amount(1000));
  n.ExpectClean();

  // Nothing left in Ana's line: a later run pays nothing more.
  SetoffRun later;
  ASSERT_EQ(Run({n.Next(), kDay, n.feira, true}, &later).outcome, Outcome::kOk);
  EXPECT_EQ(later.payments, 0u);
  EXPECT_EQ(Remainder(ac), Amount(1000));
}

// The payee's ceiling bounds a payment as much as the payer's limit: Caio may hold at
// most 20.00 FEIRA, so of Ana's 40.00 only 20.00 is paid.
TEST_F(InvoicesTest, MutualCreditStopsAtThePayeesCeiling) {
  const InvoiceId ac = Confirmed(n.ana, n.caio, 4000, n.feira);
  ASSERT_EQ(n.One([&](RequestId q) {
               return n.ledger.SetAccountLimits(
                   {q, n.caio_feira, Amount(5000), Amount(2000), "circle", "small stall"});
             }).outcome,
            Outcome::kOk);
  SetoffRun run;
  ASSERT_EQ(Run({n.Next(), kDay, n.feira, true}, &run).outcome, Outcome::kOk);
  EXPECT_EQ(run.payments, 1u);
  EXPECT_EQ(NoticeOf(run, ac).mutual_credit, Amount(2000));
  EXPECT_EQ(Remainder(ac), Amount(2000));
  EXPECT_EQ(n.Balance(n.caio_feira), Amount(2000));
  EXPECT_EQ(n.Balance(n.ana_feira), Amount(-2000));
  n.ExpectClean();
}

TEST_F(InvoicesTest, FrozenAccountsLendNoMutualCredit) {
  const InvoiceId ac = Confirmed(n.ana, n.caio, 2000, n.feira);
  ASSERT_EQ(n.One([&](RequestId q) {
               return n.ledger.SetAccountStatus(
                   {q, n.caio_feira, AccountStatus::kFrozen, "teller", "audit"});
             }).outcome,
            Outcome::kOk);
  SetoffRun run;
  ASSERT_EQ(Run({n.Next(), kDay, CurrencyId(), true}, &run).outcome, Outcome::kOk);
  EXPECT_EQ(run.payments, 0u);
  EXPECT_EQ(Remainder(ac), Amount(2000));
  n.ExpectClean();
}

TEST_F(InvoicesTest, AbortUndoesEverything) {
  const InvoiceId ab = Confirmed(n.ana, n.bia, 100);
  Confirmed(n.bia, n.ana, 100);
  const size_t requests = n.ledger.request_count();
  n.Begin();
  const RegisterInvoiceCmd c = Inv(n.caio, n.ana, 300);
  ASSERT_EQ(n.ledger.RegisterInvoice(c).outcome, Outcome::kOk);
  ASSERT_EQ(n.ledger.ConfirmInvoice({n.Next(), InvoiceId(c.request.bytes())}).outcome,
            Outcome::kOk);
  ASSERT_EQ(n.ledger.RunSetoff({n.Next(), kDay, CurrencyId(), false}).outcome, Outcome::kOk);
  EXPECT_EQ(Remainder(ab), Amount(0));
  n.ledger.AbortBatch();
  EXPECT_EQ(n.ledger.invoices().size(), 2u);
  EXPECT_EQ(n.ledger.FindInvoice(InvoiceId(c.request.bytes())), nullptr);
  EXPECT_EQ(Remainder(ab), Amount(100));
  EXPECT_TRUE(n.ledger.setoff_runs().empty());
  EXPECT_EQ(n.ledger.request_count(), requests);
  // The aborted ids are free again.
  EXPECT_EQ(n.One([&](RequestId) { return n.ledger.RegisterInvoice(c); }).outcome, Outcome::kOk);
}

TEST_F(InvoicesTest, RestoreRebuildsInvoicesAndRuns) {
  const InvoiceId ab = Confirmed(n.ana, n.bia, 10000);
  Confirmed(n.bia, n.caio, 7000);
  Confirmed(n.caio, n.ana, 5000);
  Confirmed(n.ana, n.caio, 9000, n.feira);
  const RegisterInvoiceCmd d = Inv(n.bia, n.ana, 100);
  ASSERT_EQ(n.One([&](RequestId) { return n.ledger.RegisterInvoice(d); }).outcome, Outcome::kOk);
  ASSERT_EQ(n.One([&](RequestId q) {
               return n.ledger.DisputeInvoice({q, InvoiceId(d.request.bytes()), "not mine"});
             }).outcome,
            Outcome::kOk);
  const RunSetoffCmd cmd{n.Next(), kDay, CurrencyId(), true};
  SetoffRun run;
  ASSERT_EQ(Run(cmd, &run).outcome, Outcome::kOk);
  ASSERT_EQ(run.payments, 1u);

  Ledger restored;
  ASSERT_TRUE(restored.Restore(n.journal.batches).ok());
  ExpectSameLedger(n.ledger, restored);
  ASSERT_EQ(restored.invoices().size(), n.ledger.invoices().size());
  for (size_t i = 0; i < restored.invoices().size(); ++i) {
    const InvoiceRecord& x = n.ledger.invoices()[i];
    const InvoiceRecord& y = restored.invoices()[i];
    EXPECT_TRUE(std::tie(x.id, x.request, x.debtor, x.creditor, x.currency, x.amount, x.remainder,
                         x.due_day, x.reference, x.status, x.dispute_reason, x.registered_ns) ==
                std::tie(y.id, y.request, y.debtor, y.creditor, y.currency, y.amount, y.remainder,
                         y.due_day, y.reference, y.status, y.dispute_reason, y.registered_ns))
        << "invoice " << i;
  }
  ASSERT_EQ(restored.setoff_runs().size(), 1u);
  const SetoffRun& y = restored.setoff_runs()[0];
  EXPECT_EQ(y.request, run.request);
  EXPECT_EQ(y.number, run.number);
  EXPECT_EQ(y.timestamp_ns, run.timestamp_ns);
  EXPECT_EQ(y.cutoff_day, run.cutoff_day);
  EXPECT_EQ(y.use_mutual_credit, run.use_mutual_credit);
  EXPECT_EQ(y.payments, run.payments);
  ASSERT_EQ(y.notices.size(), run.notices.size());
  for (size_t i = 0; i < y.notices.size(); ++i) {
    const SetoffRunNotice& p = run.notices[i];
    const SetoffRunNotice& q = y.notices[i];
    EXPECT_TRUE(std::tie(p.invoice, p.debtor, p.creditor, p.currency, p.before, p.set_off,
                         p.mutual_credit, p.remainder) == std::tie(q.invoice, q.debtor, q.creditor,
                                                                   q.currency, q.before, q.set_off,
                                                                   q.mutual_credit, q.remainder));
  }
  ASSERT_EQ(y.currencies.size(), run.currencies.size());
  for (size_t i = 0; i < y.currencies.size(); ++i) {
    EXPECT_EQ(y.currencies[i].gross, run.currencies[i].gross);
    EXPECT_EQ(y.currencies[i].net_balance, run.currencies[i].net_balance);
    EXPECT_EQ(y.currencies[i].remaining, run.currencies[i].remaining);
  }
  EXPECT_EQ(restored.FindInvoice(ab)->remainder, Amount(5000));

  // The restored ledger answers a retry with the original run and seals the same bytes.
  restored.BeginBatch(n.clock_ns + 1000);
  SetoffRun again;
  EXPECT_EQ(restored.RunSetoff(cmd, &again).outcome, Outcome::kExists);
  EXPECT_EQ(again.notices.size(), run.notices.size());
  const RegisterInvoiceCmd next = Inv(n.caio, n.bia, 77);
  ASSERT_EQ(restored.RegisterInvoice(next).outcome, Outcome::kOk);
  const SealedBatch rb = restored.SealBatch();
  n.Begin();
  ASSERT_EQ(n.ledger.RunSetoff(cmd).outcome, Outcome::kExists);
  ASSERT_EQ(n.ledger.RegisterInvoice(next).outcome, Outcome::kOk);
  const SealedBatch ob = n.Seal();
  EXPECT_EQ(rb.bytes, ob.bytes);
  EXPECT_EQ(rb.hash, ob.hash);
  n.ExpectClean();  // the replayer recomputes every balance, invoice events included
}

TEST_F(InvoicesTest, TamperedRunEventIsDetected) {
  Confirmed(n.ana, n.bia, 100);
  Confirmed(n.bia, n.ana, 100);
  SetoffRun run;
  ASSERT_EQ(Run({n.Next(), kDay, CurrencyId(), false}, &run).outcome, Outcome::kOk);
  std::vector<StoredBatch> batches = n.journal.batches;
  batches.back().bytes.back() ^= 1;  // one byte of the run's batch
  Ledger restored;
  const Status s = restored.Restore(batches);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_FALSE(ReplayJournal(batches).ok());
}

}  // namespace
}  // namespace ayni
