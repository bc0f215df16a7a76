#include "server/api/setoff_convert.h"

#include "server/api/convert.h"

namespace ayni::server::api {
namespace {

Status Invalid(std::string_view field, std::string_view what) {
  return Status::InvalidArgument(std::string(field) + ": " + std::string(what));
}

template <typename Req>
Result<RequestId> Common(const Req& r) {
  if (Status s = CheckFieldLimits(r); !s.ok()) return s;
  return ParseRequestId(r.request_id(), "request_id");
}

Status Id(uint64_t v, std::string_view field) {
  if (v == 0) return Invalid(field, "missing (0 is not an id)");
  return Status::Ok();
}

Status Day(int64_t day, std::string_view field) {
  if (day < 0 || day > kUnixDayMax) {
    return Invalid(field, std::to_string(day) + ", must be a day 0 … " +
                              std::to_string(kUnixDayMax) + " (unix days)");
  }
  return Status::Ok();
}

std::string Bytes(const auto& id) { return std::string(id.bytes().begin(), id.bytes().end()); }

}  // namespace

Result<InvoiceId> ParseInvoiceId(const std::string& bytes, std::string_view field) {
  Result<RequestId> id = ParseRequestId(bytes, field);
  if (!id.ok()) return id.status();
  return InvoiceId(id->bytes());
}

Result<RegisterInvoiceCmd> ToCommand(const v1::RegisterInvoiceRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  RegisterInvoiceCmd c;
  c.request = *id;
  if (!r.invoice_id().empty()) {
    Result<InvoiceId> inv = ParseInvoiceId(r.invoice_id(), "invoice_id");
    if (!inv.ok()) return inv.status();
    c.invoice = *inv;
  }
  if (Status s = Id(r.debtor_member_id(), "debtor_member_id"); !s.ok()) return s;
  if (Status s = Id(r.creditor_member_id(), "creditor_member_id"); !s.ok()) return s;
  if (r.debtor_member_id() == r.creditor_member_id()) {
    return Invalid("creditor_member_id", "the debtor itself (an invoice is between two members)");
  }
  if (Status s = Id(r.currency_id(), "currency_id"); !s.ok()) return s;
  if (r.amount_minor() <= 0) {
    return Invalid("amount_minor", std::to_string(r.amount_minor()) + ", must be > 0");
  }
  if (Status s = Day(r.due_day(), "due_day"); !s.ok()) return s;
  c.debtor = MemberId(r.debtor_member_id());
  c.creditor = MemberId(r.creditor_member_id());
  c.currency = CurrencyId(r.currency_id());
  c.amount = Amount(r.amount_minor());
  c.due_day = r.due_day();
  c.reference = r.reference();
  return c;
}

Result<ConfirmInvoiceCmd> ToCommand(const v1::ConfirmInvoiceRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  Result<InvoiceId> inv = ParseInvoiceId(r.invoice_id(), "invoice_id");
  if (!inv.ok()) return inv.status();
  return ConfirmInvoiceCmd{*id, *inv};
}

Result<DisputeInvoiceCmd> ToCommand(const v1::DisputeInvoiceRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  Result<InvoiceId> inv = ParseInvoiceId(r.invoice_id(), "invoice_id");
  if (!inv.ok()) return inv.status();
  return DisputeInvoiceCmd{*id, *inv, r.reason()};
}

Result<RunSetoffCmd> ToCommand(const v1::RunSetoffRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Day(r.cutoff_day(), "cutoff_day"); !s.ok()) return s;
  return RunSetoffCmd{*id, r.cutoff_day(), CurrencyId(r.currency_id()), r.use_mutual_credit()};
}

void ToProto(const InvoiceRecord& inv, const Ledger& l, v1::Invoice* out) {
  const Currency* c = l.FindCurrency(inv.currency);
  out->set_invoice_id(Bytes(inv.id));
  out->set_request_id(Bytes(inv.request));
  out->set_debtor_member_id(inv.debtor.value());
  out->set_creditor_member_id(inv.creditor.value());
  out->set_currency_id(inv.currency.value());
  if (c != nullptr) {
    out->set_currency_code(c->code);
    out->set_scale(c->scale);
  }
  out->set_amount_minor(inv.amount.minor());
  out->set_remainder_minor(inv.remainder.minor());
  out->set_due_day(inv.due_day);
  out->set_reference(inv.reference);
  out->set_status(static_cast<v1::InvoiceStatus>(inv.status));
  out->set_dispute_reason(inv.dispute_reason);
  out->set_registered_ns(inv.registered_ns);
}

void ToProto(const SetoffRun& run, bool dry_run, const Ledger& l, v1::SetoffReport* out) {
  out->set_run_id(Bytes(run.request));
  out->set_number(run.number);
  out->set_timestamp_ns(run.timestamp_ns);
  out->set_cutoff_day(run.cutoff_day);
  out->set_currency_id(run.currency.value());
  out->set_use_mutual_credit(run.use_mutual_credit);
  out->set_dry_run(dry_run);
  out->set_payments(run.payments);
  for (const SetoffRunCurrency& c : run.currencies) {
    v1::SetoffCurrencyTotals* t = out->add_currencies();
    const Currency* cur = l.FindCurrency(c.currency);
    t->set_currency_id(c.currency.value());
    if (cur != nullptr) {
      t->set_currency_code(cur->code);
      t->set_scale(cur->scale);
    }
    t->set_invoices(static_cast<uint32_t>(c.invoices));
    t->set_gross_minor(c.gross.minor());
    t->set_set_off_minor(c.set_off.minor());
    t->set_after_setoff_minor(c.after_setoff.minor());
    t->set_mutual_credit_minor(c.mutual_credit.minor());
    t->set_remaining_minor(c.remaining.minor());
    t->set_net_balance_minor(c.net_balance.minor());
  }
  for (const SetoffRunNotice& n : run.notices) {
    v1::SetoffNotice* p = out->add_notices();
    p->set_invoice_id(Bytes(n.invoice));
    p->set_debtor_member_id(n.debtor.value());
    p->set_creditor_member_id(n.creditor.value());
    p->set_currency_id(n.currency.value());
    p->set_before_minor(n.before.minor());
    p->set_set_off_minor(n.set_off.minor());
    p->set_mutual_credit_minor(n.mutual_credit.minor());
    p->set_remainder_minor(n.remainder.minor());
  }
  ToProto(l, out->mutable_head());
}

}  // namespace ayni::server::api
