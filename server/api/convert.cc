#include "server/api/convert.h"

#include <sodium.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "clearing/hash.h"
#include "clearing/int128.h"
#include "clearing/limits.h"

namespace ayni::server::api {
namespace {

namespace pb = google::protobuf;

Status Invalid(std::string_view field, std::string_view what) {
  return Status::InvalidArgument(std::string(field) + ": " + std::string(what));
}

// Where a field sits in the request ("payments[3].memo"), spelled out only for an error:
// checking a BatchPay of 1,000 items must not build 1,000 names that nobody reads.
struct FieldPath {
  const FieldPath* parent = nullptr;
  std::string_view name;
  int index = -1;  // ≥ 0: item `index` of the repeated field `name`

  std::string str() const {
    std::string s = parent ? parent->str() : std::string();
    if (!s.empty()) s += '.';
    s += name;
    if (index >= 0) {
      s += '[';
      s += std::to_string(index);
      s += ']';
    }
    return s;
  }
};

Status CheckBytes(const pb::FieldDescriptor& f, size_t size, const FieldPath& path) {
  const pb::FieldOptions& o = f.options();
  if (o.HasExtension(v1::exact_bytes) && size != o.GetExtension(v1::exact_bytes)) {
    return Invalid(path.str(), std::to_string(size) + " bytes, must be exactly " +
                                   std::to_string(o.GetExtension(v1::exact_bytes)));
  }
  if (o.HasExtension(v1::min_bytes) && size < o.GetExtension(v1::min_bytes)) {
    return Invalid(path.str(), std::to_string(size) + " bytes, at least " +
                                   std::to_string(o.GetExtension(v1::min_bytes)));
  }
  if (o.HasExtension(v1::max_bytes) && size > o.GetExtension(v1::max_bytes)) {
    return Invalid(path.str(), std::to_string(size) + " bytes, at most " +
                                   std::to_string(o.GetExtension(v1::max_bytes)));
  }
  return Status::Ok();
}

// `prefix`: where `m` sits (null: the request itself).
Status CheckMessage(const pb::Message& m, const FieldPath* prefix) {
  const pb::Descriptor* d = m.GetDescriptor();
  const pb::Reflection* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    const FieldPath path{prefix, f->name()};
    if (f->is_repeated()) {
      const int n = r->FieldSize(m, f);
      const pb::FieldOptions& o = f->options();
      if (o.HasExtension(v1::max_items) &&
          static_cast<uint32_t>(n) > o.GetExtension(v1::max_items)) {
        return Invalid(path.str(), std::to_string(n) + " items, at most " +
                                       std::to_string(o.GetExtension(v1::max_items)));
      }
      for (int k = 0; k < n; ++k) {
        const FieldPath item{prefix, f->name(), k};
        if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
          if (Status s = CheckMessage(r->GetRepeatedMessage(m, f, k), &item); !s.ok()) return s;
        } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
          std::string scratch;
          const std::string& v = r->GetRepeatedStringReference(m, f, k, &scratch);
          if (Status s = CheckBytes(*f, v.size(), item); !s.ok()) return s;
        }
      }
      continue;
    }
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (r->HasField(m, f)) {
        if (Status s = CheckMessage(r->GetMessage(m, f), &path); !s.ok()) return s;
      }
    } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
      // An unset oneof member is not checked; every other string field is, also when empty.
      if (f->containing_oneof() != nullptr && !r->HasField(m, f)) continue;
      std::string scratch;
      const std::string& v = r->GetStringReference(m, f, &scratch);
      if (Status s = CheckBytes(*f, v.size(), path); !s.ok()) return s;
    } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM) {
      if (f->enum_type()->FindValueByNumber(r->GetEnumValue(m, f)) == nullptr) {
        return Invalid(path.str(), "unknown value " + std::to_string(r->GetEnumValue(m, f)));
      }
    }
  }
  return Status::Ok();
}

Status Positive(int64_t v, std::string_view field) {
  if (v <= 0) return Invalid(field, std::to_string(v) + ", must be > 0");
  return Status::Ok();
}

Status NonNegative(int64_t v, std::string_view field) {
  if (v < 0) return Invalid(field, std::to_string(v) + ", must be ≥ 0");
  return Status::Ok();
}

Status Id(uint64_t v, std::string_view field) {
  if (v == 0) return Invalid(field, "missing (0 is not an id)");
  return Status::Ok();
}

// Runs the generic checks and the request id; returns the id.
template <typename Req>
Result<RequestId> Common(const Req& r) {
  if (Status s = CheckFieldLimits(r); !s.ok()) return s;
  return ParseRequestId(r.request_id(), "request_id");
}

template <typename Req>
Result<AccountAmountCmd> AccountAmount(const Req& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Id(r.account_id(), "account_id"); !s.ok()) return s;
  if (Status s = Positive(r.amount_minor(), "amount_minor"); !s.ok()) return s;
  return AccountAmountCmd{*id, AccountId(r.account_id()), Amount(r.amount_minor()), r.memo()};
}

// The first item whose id repeats an earlier item's (ids that did not parse take no
// part), or -1. One sort instead of a tree node an item.
int FirstRepeat(const std::vector<RequestId>& ids, const std::vector<bool>& parsed) {
  std::vector<std::pair<RequestId, int>> order;
  order.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (parsed[i]) order.emplace_back(ids[i], static_cast<int>(i));
  }
  std::sort(order.begin(), order.end());
  int first = -1;
  for (size_t k = 1; k < order.size(); ++k) {
    // Sorted by (id, index): within a run of one id every entry after the run's first
    // repeats it.
    if (order[k].first == order[k - 1].first && (first < 0 || order[k].second < first)) {
      first = order[k].second;
    }
  }
  return first;
}

}  // namespace

Status CheckFieldLimits(const google::protobuf::Message& m) { return CheckMessage(m, nullptr); }

Result<RequestId> ParseRequestId(const std::string& bytes, std::string_view field) {
  if (bytes.size() != 16) {
    return Invalid(field, std::to_string(bytes.size()) + " bytes, must be exactly 16");
  }
  RequestId::Bytes b;
  std::copy(bytes.begin(), bytes.end(), b.begin());
  const RequestId id(b);
  if (id.zero()) return Invalid(field, "all zero; use a fresh random id");
  return id;
}

RequestId DeriveBatchItemId(const RequestId& batch, uint32_t index) {
  EnsureSodium();
  uint8_t in[10 + 16 + 4] = {'a', 'y', 'n', 'i', '-', 'b', 'a', 't', 'c', 'h'};
  std::copy(batch.bytes().begin(), batch.bytes().end(), in + 10);
  for (int i = 0; i < 4; ++i) in[26 + i] = static_cast<uint8_t>(index >> (24 - 8 * i));
  RequestId::Bytes out;
  crypto_generichash(out.data(), out.size(), in, sizeof in, nullptr, 0);
  return RequestId(out);
}

Result<InitDeploymentCmd> ToCommand(const v1::InitDeploymentRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (!IsValidScale(r.scale())) return Invalid("scale", "must be a power of ten from 1 to 10^9");
  return InitDeploymentCmd{*id, r.national_code(), r.scale()};
}

Result<CreateBankCmd> ToCommand(const v1::CreateBankRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  return CreateBankCmd{*id, r.code(), r.name()};
}

Result<CreateCurrencyCmd> ToCommand(const v1::CreateCurrencyRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Id(r.bank_id(), "bank_id"); !s.ok()) return s;
  CreateCurrencyCmd c{*id, BankId(r.bank_id()), r.code()};
  if (r.has_coverage_min_bp()) c.coverage_min_bp = r.coverage_min_bp();
  if (r.has_redemption_fee_bp()) c.redemption_fee_bp = r.redemption_fee_bp();
  if (r.has_default_ceiling_minor()) {
    if (Status s = NonNegative(r.default_ceiling_minor(), "default_ceiling_minor"); !s.ok()) {
      return s;
    }
    c.default_ceiling = Amount(r.default_ceiling_minor());
  }
  if (c.coverage_min_bp < 0 || c.coverage_min_bp > kCoverageBpMax) {
    return Invalid("coverage_min_bp", "must be 0 … " + std::to_string(kCoverageBpMax));
  }
  if (c.redemption_fee_bp < 0 || c.redemption_fee_bp > kFeeBpMax) {
    return Invalid("redemption_fee_bp", "must be 0 … " + std::to_string(kFeeBpMax));
  }
  return c;
}

Result<CreateCircleCmd> ToCommand(const v1::CreateCircleRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Id(r.bank_id(), "bank_id"); !s.ok()) return s;
  const int64_t scale = r.scale() == 0 ? 100 : r.scale();
  if (!IsValidScale(scale)) return Invalid("scale", "must be a power of ten from 1 to 10^9");
  if (Status s = NonNegative(r.default_credit_limit_minor(), "default_credit_limit_minor");
      !s.ok()) {
    return s;
  }
  CreateCircleCmd c{
      *id, BankId(r.bank_id()), r.code(), r.name(), scale, Amount(r.default_credit_limit_minor())};
  if (r.has_default_ceiling_minor()) {
    if (Status s = NonNegative(r.default_ceiling_minor(), "default_ceiling_minor"); !s.ok()) {
      return s;
    }
    c.default_ceiling = Amount(r.default_ceiling_minor());
  }
  return c;
}

Result<CreateMemberCmd> ToCommand(const v1::CreateMemberRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Id(r.bank_id(), "bank_id"); !s.ok()) return s;
  return CreateMemberCmd{*id, BankId(r.bank_id()), r.name()};
}

Result<AddCircleMemberCmd> ToCommand(const v1::AddCircleMemberRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Id(r.circle_id(), "circle_id"); !s.ok()) return s;
  if (Status s = Id(r.member_id(), "member_id"); !s.ok()) return s;
  return AddCircleMemberCmd{*id, CircleId(r.circle_id()), MemberId(r.member_id()), r.admin()};
}

Result<OpenAccountCmd> ToCommand(const v1::OpenAccountRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Id(r.member_id(), "member_id"); !s.ok()) return s;
  if (Status s = Id(r.currency_id(), "currency_id"); !s.ok()) return s;
  const auto kind = static_cast<AccountKind>(r.kind());
  if (!IsMemberKind(kind)) return Invalid("kind", "must be MEMBER or MERCHANT");
  return OpenAccountCmd{*id, MemberId(r.member_id()), CurrencyId(r.currency_id()), kind};
}

Result<SetAccountStatusCmd> ToCommand(const v1::SetAccountStatusRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Id(r.account_id(), "account_id"); !s.ok()) return s;
  return SetAccountStatusCmd{*id, AccountId(r.account_id()), static_cast<AccountStatus>(r.status()),
                             r.actor(), r.reason()};
}

Result<SetAccountLimitsCmd> ToCommand(const v1::SetAccountLimitsRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Id(r.account_id(), "account_id"); !s.ok()) return s;
  if (Status s = NonNegative(r.credit_limit_minor(), "credit_limit_minor"); !s.ok()) return s;
  Amount ceiling = Amount::Max();
  if (r.has_ceiling_minor()) {
    if (Status s = NonNegative(r.ceiling_minor(), "ceiling_minor"); !s.ok()) return s;
    ceiling = Amount(r.ceiling_minor());
  }
  return SetAccountLimitsCmd{
      *id,       AccountId(r.account_id()), Amount(r.credit_limit_minor()), ceiling, r.actor(),
      r.reason()};
}

Result<PayCmd> ToCommand(const v1::PayRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Id(r.from_account_id(), "from_account_id"); !s.ok()) return s;
  if (Status s = Id(r.to_account_id(), "to_account_id"); !s.ok()) return s;
  if (Status s = Positive(r.amount_minor(), "amount_minor"); !s.ok()) return s;
  return PayCmd{*id, AccountId(r.from_account_id()), AccountId(r.to_account_id()),
                Amount(r.amount_minor()), r.memo()};
}

Result<std::vector<PayCmd>> ToCommands(const v1::BatchPayRequest& r) {
  Result<RequestId> batch = Common(r);
  if (!batch.ok()) return batch.status();
  const int n = r.payments_size();
  if (n == 0) return Invalid("payments", "empty; send 1 … 8190 payments");
  // Each item's id (its own, or derived from the batch's); an id that does not parse is
  // refused below, in item order.
  std::vector<RequestId> ids(static_cast<size_t>(n));
  std::vector<bool> parsed(static_cast<size_t>(n), true);
  for (int i = 0; i < n; ++i) {
    const std::string& own = r.payments(i).request_id();
    if (own.empty()) {
      ids[i] = DeriveBatchItemId(*batch, static_cast<uint32_t>(i));
    } else if (Result<RequestId> id = ParseRequestId(own, "request_id"); id.ok()) {
      ids[i] = *id;
    } else {
      parsed[i] = false;
    }
  }
  const int repeat = FirstRepeat(ids, parsed);
  std::vector<PayCmd> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const v1::PaymentItem& p = r.payments(i);
    // "payments[i]." before a field's own message, built only for an error.
    auto at = [i](const Status& s) {
      return Status(s.code(), "payments[" + std::to_string(i) + "]." + s.message());
    };
    if (!parsed[i]) return at(ParseRequestId(p.request_id(), "request_id").status());
    if (i == repeat) return at(Invalid("request_id", "repeats an earlier item's id"));
    if (Status s = Id(p.from_account_id(), "from_account_id"); !s.ok()) return at(s);
    if (Status s = Id(p.to_account_id(), "to_account_id"); !s.ok()) return at(s);
    if (Status s = Positive(p.amount_minor(), "amount_minor"); !s.ok()) return at(s);
    out.push_back(PayCmd{ids[i], AccountId(p.from_account_id()), AccountId(p.to_account_id()),
                         Amount(p.amount_minor()), p.memo()});
  }
  return out;
}

Result<AccountAmountCmd> ToCommand(const v1::IssueRequest& r) { return AccountAmount(r); }
Result<AccountAmountCmd> ToCommand(const v1::RedeemRequest& r) { return AccountAmount(r); }
Result<AccountAmountCmd> ToCommand(const v1::DistributeRequest& r) { return AccountAmount(r); }

Result<FundReserveCmd> ToCommand(const v1::FundReserveRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Id(r.bank_id(), "bank_id"); !s.ok()) return s;
  if (Status s = Positive(r.amount_minor(), "amount_minor"); !s.ok()) return s;
  return FundReserveCmd{*id, BankId(r.bank_id()), Amount(r.amount_minor()),
                        static_cast<FundSource>(r.source()), r.memo()};
}

Result<RunCycleCmd> ToCommand(const v1::RunInterbankCycleRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  return RunCycleCmd{*id};
}

Status StatusOf(const OpResult& r) {
  if (!IsInvalidInput(r.outcome)) return Status::Ok();
  std::string m = OutcomeName(r.outcome);
  if (r.detail[0] != '\0') m += std::string(": ") + r.detail;
  return Status::InvalidArgument(m);
}

v1::Reason ReasonOf(Outcome o) { return static_cast<v1::Reason>(static_cast<int>(o)); }

void ToProto(const Ledger& l, v1::JournalHead* out) {
  out->set_sequence(l.batch_sequence());
  out->set_hash(std::string(l.head().begin(), l.head().end()));
  out->set_timestamp_ns(l.head_timestamp_ns());
}

void ToProto(const Account& a, const Ledger& l, v1::Account* out) {
  const Currency& c = *l.FindCurrency(a.currency);
  out->set_account_id(a.id.value());
  out->set_bank_id(a.bank.value());
  out->set_currency_id(a.currency.value());
  out->set_currency_code(c.code);
  out->set_kind(static_cast<v1::AccountKind>(a.kind));
  out->set_owner_member_id(a.owner.value());
  out->set_counterparty_bank_id(a.counterparty.value());
  out->set_status(static_cast<v1::AccountStatus>(a.status));
  out->set_credit_limit_minor(a.credit_limit.minor());
  out->set_ceiling_minor(a.ceiling.minor());
  out->set_balance_minor(a.balance.minor());
  out->set_debits_posted_minor(a.debits_posted.minor());
  out->set_credits_posted_minor(a.credits_posted.minor());
  out->set_scale(c.scale);
  ToProto(l, out->mutable_as_of());
}

void ToProto(const CycleReport& c, v1::CycleReport* out) {
  out->set_cycle_id(std::string(c.request.bytes().begin(), c.request.bytes().end()));
  out->set_number(c.number);
  out->set_timestamp_ns(c.timestamp_ns);
  for (const Obligation& o : c.obligations) {
    v1::Obligation* p = out->add_obligations();
    p->set_debtor_bank_id(o.debtor.value());
    p->set_creditor_bank_id(o.creditor.value());
    p->set_amount_minor(o.amount.minor());
  }
  out->set_gross_total_minor(c.plan.gross_total.minor());
  for (const BilateralNet& b : c.plan.bilateral) {
    v1::BilateralNet* p = out->add_bilateral();
    p->set_bank_a_id(b.a.value());
    p->set_bank_b_id(b.b.value());
    p->set_amount_minor(b.amount.minor());
  }
  for (const NetPosition& n : c.plan.positions) {
    v1::NetPosition* p = out->add_positions();
    p->set_bank_id(n.bank.value());
    p->set_receivable_minor(n.receivable.minor());
    p->set_payable_minor(n.payable.minor());
    p->set_net_minor(n.net.minor());
  }
  for (const SettlementInstruction& s : c.plan.instructions) {
    v1::SettlementInstruction* p = out->add_instructions();
    p->set_from_bank_id(s.from.value());
    p->set_to_bank_id(s.to.value());
    p->set_amount_minor(s.amount.minor());
  }
  out->set_settled_total_minor(c.plan.settled_total.minor());
  out->set_liquidity_saved_minor(c.plan.liquidity_saved.minor());
  const int64_t gross = c.plan.gross_total.minor();
  out->set_liquidity_saved_bp(
      gross == 0 ? 0
                 : static_cast<int64_t>(static_cast<Int128>(c.plan.liquidity_saved.minor()) *
                                        10000 / gross));
  out->set_transfers(static_cast<uint32_t>(c.plan.instructions.size() + c.obligations.size()));
  for (BankId b : c.short_debtors) out->add_short_debtor_bank_ids(b.value());
}

void AddTransferIds(const RequestId& request, const OpResult& r,
                    google::protobuf::RepeatedPtrField<std::string>* out) {
  if (!r.ok()) return;
  for (uint32_t i = 0; i < r.legs; ++i) {
    const TransferId t = DeriveTransferId(request, i);
    out->Add(std::string(t.bytes().begin(), t.bytes().end()));
  }
}

namespace {

int64_t Clamp(Int128 v) {
  if (v > INT64_MAX) return INT64_MAX;
  if (v < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(v);
}

}  // namespace

void ToProto(const Ledger& l, const Bank& b, v1::BankCoverage* out) {
  const Coverage c = l.CoverageOf(b.id);
  out->set_bank_id(b.id.value());
  out->set_bank_code(b.code);
  out->set_reserve_minor(c.reserve.minor());
  out->set_receivables_minor(c.due_from.minor());
  out->set_payables_minor(-c.due_to.minor());
  const Int128 assets =
      static_cast<Int128>(c.reserve.minor()) + c.due_from.minor() + c.due_to.minor();
  out->set_assets_minor(Clamp(assets));
  Int128 supply = 0;
  for (const CoverageRow& row : c.currencies) {
    supply += row.supply.minor();
    v1::CurrencyCoverage* cc = out->add_currencies();
    const Currency* cur = l.FindCurrency(row.currency);
    cc->set_currency_id(row.currency.value());
    cc->set_code(cur ? cur->code : "");
    cc->set_supply_minor(row.supply.minor());
    cc->set_coverage_min_bp(row.coverage_min_bp);
    // Rounded up: the reserve must cover the whole requirement.
    cc->set_required_minor(
        Clamp((static_cast<Int128>(row.supply.minor()) * row.coverage_min_bp + 9999) / 10000));
    const Account* f = cur ? l.FindAccount(cur->card_float) : nullptr;
    cc->set_card_float_minor(f ? f->balance.minor() : 0);
  }
  out->set_supply_minor(Clamp(supply));
  out->set_required_minor(Clamp((c.required_scaled + 9999) / 10000));
  if (supply > 0) out->set_coverage_ratio_bp(Clamp(assets * 10000 / supply));
  out->set_excess_minor(c.ExcessAtPar().minor());
  out->set_covered(c.covered());
}

void ToProto(const Transfer& t, uint64_t batch_sequence, v1::Transfer* out) {
  out->set_transfer_id(t.id.bytes().data(), t.id.bytes().size());
  out->set_request_id(t.request.bytes().data(), t.request.bytes().size());
  out->set_leg(t.leg);
  out->set_debit_account_id(t.debit.value());
  out->set_credit_account_id(t.credit.value());
  out->set_currency_id(t.currency.value());
  out->set_amount_minor(t.amount.minor());
  out->set_code(static_cast<v1::TransferCode>(static_cast<int>(t.code)));
  out->set_timestamp_ns(t.timestamp_ns);
  out->set_memo(t.memo);
  out->set_batch_sequence(batch_sequence);
}

}  // namespace ayni::server::api
