// The proto API mirrors the domain core exactly, and keeps its conventions (common.proto):
//
// * ayni.v1.Reason ↔ ayni::Outcome, both ways: same numbers, "REASON_" + upper(name);
//   likewise the model enums, FundSource and the audit's fault kinds.
// * The expected services and methods exist; every method not on the read-only allow-list
//   changes state, so its request starts with a 16-byte `bytes request_id = 1` and its
//   reply with `Reason reason = 1; string detail = 2`.
// * Money is int64 `_minor`, dense ids are uint64, and field limits equal clearing/limits.h.
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ayni/v1/audit.grpc.pb.h"
#include "ayni/v1/clearing.grpc.pb.h"
#include "ayni/v1/common.pb.h"
#include "ayni/v1/ledger.grpc.pb.h"
#include "ayni/v1/reserves.grpc.pb.h"
#include "ayni/v1/setoff.grpc.pb.h"
#include "ayni/v1/setup.grpc.pb.h"
#include "clearing/invariants.h"
#include "clearing/invoices.h"
#include "clearing/journal.h"
#include "clearing/ledger.h"
#include "clearing/limits.h"
#include "clearing/model.h"
#include "clearing/outcome.h"

namespace ayni {
namespace {

namespace pb = google::protobuf;

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Every file of the API. Naming one message per file also forces its generated code (and
// so its descriptor) to be linked in.
std::vector<const pb::FileDescriptor*> ApiFiles() {
  return {v1::JournalHead::descriptor()->file(), v1::CreateBankRequest::descriptor()->file(),
          v1::PayRequest::descriptor()->file(),  v1::IssueRequest::descriptor()->file(),
          v1::CycleReport::descriptor()->file(), v1::ReserveAuditReply::descriptor()->file(),
          v1::SetoffReport::descriptor()->file()};
}

// Checks that proto enum `e` mirrors a C++ enum both ways. `cpp_name(n)` is the C++ name
// of value n (nullptr when n is not a value); `max` bounds the C++ numbers to walk.
// A proto value named <prefix>UNSPECIFIED must be 0 and have no C++ counterpart.
void ExpectEnumMirror(const pb::EnumDescriptor* e, const std::string& prefix, int max,
                      const std::function<const char*(int)>& cpp_name) {
  SCOPED_TRACE(e->full_name());
  int cpp_values = 0;
  for (int n = 0; n <= max; ++n) {
    const char* name = cpp_name(n);
    if (name == nullptr) continue;
    ++cpp_values;
    const pb::EnumValueDescriptor* v = e->FindValueByNumber(n);
    ASSERT_NE(v, nullptr) << "C++ value " << n << " (" << name << ") has no proto value";
    EXPECT_EQ(v->name(), prefix + Upper(name)) << "number " << n;
  }
  int proto_values = 0;
  for (int i = 0; i < e->value_count(); ++i) {
    const pb::EnumValueDescriptor* v = e->value(i);
    if (v->name() == prefix + "UNSPECIFIED") {
      EXPECT_EQ(v->number(), 0) << v->name();
      EXPECT_EQ(cpp_name(0), nullptr) << v->name() << " hides C++ value 0";
      continue;
    }
    ++proto_values;
    ASSERT_TRUE(v->number() >= 0 && v->number() <= max) << v->name();
    const char* name = cpp_name(v->number());
    ASSERT_NE(name, nullptr) << "proto value " << v->name() << " has no C++ value";
    EXPECT_EQ(v->name(), prefix + Upper(name));
  }
  EXPECT_EQ(proto_values, cpp_values);
  EXPECT_GT(cpp_values, 0);
}

TEST(ReasonMirrorTest, EveryOutcomeHasItsReason) {
  int count = 0;
  const Outcome* all = AllOutcomes(&count);
  ASSERT_GT(count, 0);
  for (int i = 0; i < count; ++i) {
    const int n = static_cast<int>(all[i]);
    SCOPED_TRACE(OutcomeName(all[i]));
    ASSERT_TRUE(v1::Reason_IsValid(n)) << "Outcome " << n << " missing from ayni.v1.Reason";
    EXPECT_EQ(v1::Reason_Name(static_cast<v1::Reason>(n)), "REASON_" + Upper(OutcomeName(all[i])));
  }
}

TEST(ReasonMirrorTest, EveryReasonIsAnOutcome) {
  int count = 0;
  const Outcome* all = AllOutcomes(&count);
  std::map<int, std::string> outcomes;
  for (int i = 0; i < count; ++i) outcomes[static_cast<int>(all[i])] = OutcomeName(all[i]);

  const pb::EnumDescriptor* e = v1::Reason_descriptor();
  EXPECT_EQ(e->value_count(), count);
  for (int i = 0; i < e->value_count(); ++i) {
    const pb::EnumValueDescriptor* v = e->value(i);
    const auto it = outcomes.find(v->number());
    ASSERT_NE(it, outcomes.end()) << v->name() << " = " << v->number() << " is no Outcome";
    EXPECT_EQ(v->name(), "REASON_" + Upper(it->second));
  }
  // The examples of the API's contract, spelled out.
  EXPECT_EQ(v1::REASON_OK, 0);
  EXPECT_EQ(v1::REASON_EXISTS, 1);
  EXPECT_EQ(v1::REASON_INSUFFICIENT_FUNDS, 80);
  EXPECT_EQ(static_cast<int>(Outcome::kCoverageWouldBreak), v1::REASON_COVERAGE_WOULD_BREAK);
}

// Name of a C++ enum value, or nullptr when `n` is not one (the *Name functions answer
// "UNKNOWN"/"unknown" then).
template <typename E, typename NameFn>
std::function<const char*(int)> CppNames(NameFn fn) {
  return [fn](int n) -> const char* {
    const char* name = fn(static_cast<E>(n));
    const std::string s = Upper(name);
    return s == "UNKNOWN" ? nullptr : name;
  };
}

TEST(ReasonMirrorTest, ModelEnumsMirrorTheCore) {
  ExpectEnumMirror(v1::CurrencyKind_descriptor(), "CURRENCY_KIND_", UINT8_MAX,
                   CppNames<CurrencyKind>(CurrencyKindName));
  ExpectEnumMirror(v1::AccountKind_descriptor(), "ACCOUNT_KIND_", UINT8_MAX,
                   CppNames<AccountKind>(AccountKindName));
  ExpectEnumMirror(v1::AccountStatus_descriptor(), "ACCOUNT_STATUS_", UINT8_MAX,
                   CppNames<AccountStatus>(AccountStatusName));
  ExpectEnumMirror(v1::TransferCode_descriptor(), "TRANSFER_CODE_", UINT16_MAX,
                   CppNames<TransferCode>(TransferCodeName));
  // Every valid account kind is mirrored (IsValidAccountKind is the core's own bound).
  for (int n = 0; n <= UINT8_MAX; ++n) {
    EXPECT_EQ(IsValidAccountKind(static_cast<uint8_t>(n)), v1::AccountKind_IsValid(n)) << n;
  }
}

TEST(ReasonMirrorTest, FaultKindsMirrorTheCore) {
  ExpectEnumMirror(v1::JournalFaultKind_descriptor(), "JOURNAL_FAULT_", UINT8_MAX,
                   CppNames<JournalFaultKind>(JournalFaultKindName));
  ExpectEnumMirror(v1::InvariantFaultKind_descriptor(), "INVARIANT_FAULT_", UINT8_MAX,
                   CppNames<FaultKind>(FaultKindName));
}

TEST(ReasonMirrorTest, InvoiceStatusMirrorsTheCore) {
  ExpectEnumMirror(v1::InvoiceStatus_descriptor(), "INVOICE_STATUS_", UINT8_MAX,
                   CppNames<InvoiceStatus>(InvoiceStatusName));
  const auto max_bytes = [](const pb::Descriptor* d, const char* field) {
    return d->FindFieldByName(field)->options().GetExtension(v1::max_bytes);
  };
  EXPECT_EQ(max_bytes(v1::RegisterInvoiceRequest::descriptor(), "reference"),
            kInvoiceReferenceBytesMax);
  EXPECT_EQ(max_bytes(v1::Invoice::descriptor(), "reference"), kInvoiceReferenceBytesMax);
  EXPECT_EQ(max_bytes(v1::Invoice::descriptor(), "dispute_reason"), kReasonBytesMax);
}

TEST(ReasonMirrorTest, FundSourceMirrorsTheCore) {
  // ayni::FundSource has no name function; its two values are spelled out.
  EXPECT_EQ(static_cast<int>(FundSource::kVault), v1::FUND_SOURCE_VAULT);
  EXPECT_EQ(static_cast<int>(FundSource::kFees), v1::FUND_SOURCE_FEES);
  EXPECT_EQ(v1::FundSource_descriptor()->value_count(), 2);
}

// ---- Services ------------------------------------------------------------------------------

const std::map<std::string, std::set<std::string>>& ExpectedMethods() {
  static const auto* kExpected = new std::map<std::string, std::set<std::string>>{
      {"ayni.v1.SetupService",
       {"InitDeployment", "GetDeployment", "CreateBank", "ListBanks", "CreateCurrency",
        "ListCurrencies", "CreateCircle", "ListCircles", "CreateMember", "AddCircleMember",
        "OpenAccount", "SetAccountStatus", "SetAccountLimits", "CreateApiKey", "RevokeApiKey",
        "ListApiKeys"}},
      {"ayni.v1.LedgerService", {"Pay", "BatchPay", "GetAccount", "ListAccounts", "Statement"}},
      {"ayni.v1.ReservesService", {"Issue", "Redeem", "FundReserve", "Distribute", "GetCoverage"}},
      {"ayni.v1.ClearingService", {"RunInterbankCycle", "GetCycle", "ListCycles"}},
      {"ayni.v1.AuditService", {"ReserveAudit", "VerifyJournal"}},
      {"ayni.v1.SetoffService",
       {"RegisterInvoice", "ConfirmInvoice", "DisputeInvoice", "ListInvoices", "RunSetoff",
        "GetSetoffRun"}},
  };
  return *kExpected;
}

// Methods that change nothing. Every other method is state-changing.
const std::set<std::string>& ReadOnlyMethods() {
  static const auto* kReadOnly = new std::set<std::string>{
      "ayni.v1.SetupService.GetDeployment",  "ayni.v1.SetupService.ListBanks",
      "ayni.v1.SetupService.ListCurrencies", "ayni.v1.SetupService.ListCircles",
      "ayni.v1.SetupService.ListApiKeys",    "ayni.v1.LedgerService.GetAccount",
      "ayni.v1.LedgerService.ListAccounts",  "ayni.v1.LedgerService.Statement",
      "ayni.v1.ReservesService.GetCoverage", "ayni.v1.ClearingService.GetCycle",
      "ayni.v1.ClearingService.ListCycles",  "ayni.v1.AuditService.ReserveAudit",
      "ayni.v1.AuditService.VerifyJournal",
      "ayni.v1.SetoffService.ListInvoices",  "ayni.v1.SetoffService.GetSetoffRun",
  };
  return *kReadOnly;
}

std::vector<const pb::MethodDescriptor*> AllMethods() {
  std::vector<const pb::MethodDescriptor*> out;
  for (const pb::FileDescriptor* f : ApiFiles()) {
    for (int s = 0; s < f->service_count(); ++s) {
      for (int m = 0; m < f->service(s)->method_count(); ++m)
        out.push_back(f->service(s)->method(m));
    }
  }
  return out;
}

TEST(ServiceTest, ExpectedServicesAndMethods) {
  std::map<std::string, std::set<std::string>> found;
  for (const pb::FileDescriptor* f : ApiFiles()) {
    EXPECT_EQ(f->package(), "ayni.v1") << f->name();
    for (int s = 0; s < f->service_count(); ++s) {
      const pb::ServiceDescriptor* svc = f->service(s);
      for (int m = 0; m < svc->method_count(); ++m)
        found[svc->full_name()].insert(svc->method(m)->name());
    }
  }
  EXPECT_EQ(found, ExpectedMethods());
  // The generated pool (what reflection serves) knows every service by name.
  for (const auto& [name, methods] : ExpectedMethods()) {
    EXPECT_NE(pb::DescriptorPool::generated_pool()->FindServiceByName(name), nullptr) << name;
  }
  // gRPC stubs are generated too.
  EXPECT_STREQ(v1::LedgerService::service_full_name(), "ayni.v1.LedgerService");
}

TEST(ServiceTest, ReadOnlyAllowListNamesRealMethods) {
  std::set<std::string> all;
  for (const pb::MethodDescriptor* m : AllMethods()) all.insert(m->full_name());
  for (const std::string& name : ReadOnlyMethods()) EXPECT_TRUE(all.count(name)) << name;
}

TEST(ServiceTest, StateChangingRequestsCarryRequestIdAndRepliesAReason) {
  int state_changing = 0;
  for (const pb::MethodDescriptor* m : AllMethods()) {
    SCOPED_TRACE(m->full_name());
    EXPECT_FALSE(m->client_streaming() || m->server_streaming());
    const pb::FieldDescriptor* id = m->input_type()->FindFieldByNumber(1);
    if (ReadOnlyMethods().count(m->full_name())) {
      // A read takes no idempotency key: it would suggest the call changes something.
      EXPECT_EQ(m->input_type()->FindFieldByName("request_id"), nullptr);
      continue;
    }
    ++state_changing;
    ASSERT_NE(id, nullptr) << m->input_type()->full_name() << " has no field 1";
    EXPECT_EQ(id->name(), "request_id");
    EXPECT_EQ(id->type(), pb::FieldDescriptor::TYPE_BYTES);
    EXPECT_FALSE(id->is_repeated());
    EXPECT_EQ(id->options().GetExtension(v1::exact_bytes), 16u);

    const pb::FieldDescriptor* reason = m->output_type()->FindFieldByNumber(1);
    ASSERT_NE(reason, nullptr) << m->output_type()->full_name();
    EXPECT_EQ(reason->name(), "reason");
    ASSERT_EQ(reason->type(), pb::FieldDescriptor::TYPE_ENUM);
    EXPECT_EQ(reason->enum_type(), v1::Reason_descriptor());
    const pb::FieldDescriptor* detail = m->output_type()->FindFieldByNumber(2);
    ASSERT_NE(detail, nullptr) << m->output_type()->full_name();
    EXPECT_EQ(detail->name(), "detail");
    EXPECT_EQ(detail->type(), pb::FieldDescriptor::TYPE_STRING);
  }
  EXPECT_EQ(state_changing, static_cast<int>(AllMethods().size() - ReadOnlyMethods().size()));
  EXPECT_GE(state_changing, 18);
}

// ---- Field conventions ---------------------------------------------------------------------

// Every message of the API, nested ones included.
std::vector<const pb::Descriptor*> AllMessages() {
  std::vector<const pb::Descriptor*> out;
  std::function<void(const pb::Descriptor*)> add = [&](const pb::Descriptor* d) {
    out.push_back(d);
    for (int i = 0; i < d->nested_type_count(); ++i) add(d->nested_type(i));
  };
  for (const pb::FileDescriptor* f : ApiFiles()) {
    for (int i = 0; i < f->message_type_count(); ++i) add(f->message_type(i));
  }
  return out;
}

TEST(FieldTest, MoneyIsInt64MinorAndIdsAreUint64) {
  int money = 0;
  for (const pb::Descriptor* d : AllMessages()) {
    for (int i = 0; i < d->field_count(); ++i) {
      const pb::FieldDescriptor* f = d->field(i);
      const std::string& n = f->name();
      SCOPED_TRACE(f->full_name());
      if (EndsWith(n, "_minor")) {
        ++money;
        EXPECT_EQ(f->type(), pb::FieldDescriptor::TYPE_INT64);
      }
      if (n.find("amount") != std::string::npos || n.find("balance") != std::string::npos) {
        EXPECT_TRUE(EndsWith(n, "_minor")) << "money field without _minor";
      }
      for (const char* kind : {"bank_id", "currency_id", "account_id", "member_id", "circle_id"}) {
        if (EndsWith(n, kind) || EndsWith(n, std::string(kind) + "s")) {
          EXPECT_EQ(f->type(), pb::FieldDescriptor::TYPE_UINT64);
        }
      }
      // 128-bit ids are 16 raw bytes.
      if (n == "request_id" || n == "transfer_id" || n == "cycle_id") {
        EXPECT_EQ(f->type(), pb::FieldDescriptor::TYPE_BYTES);
      }
    }
  }
  EXPECT_GT(money, 20);
}

TEST(FieldTest, LimitsMatchTheCore) {
  const auto opt = [](const pb::FieldDescriptor* f, const auto& ext) {
    return f->options().GetExtension(ext);
  };
  int memos = 0;
  for (const pb::Descriptor* d : AllMessages()) {
    const bool request = EndsWith(d->name(), "Request");
    for (int i = 0; i < d->field_count(); ++i) {
      const pb::FieldDescriptor* f = d->field(i);
      const std::string& n = f->name();
      SCOPED_TRACE(f->full_name());
      if (n == "memo") {
        ++memos;
        EXPECT_EQ(opt(f, v1::max_bytes), kMemoBytesMax);
      }
      if (!request) continue;
      if (n == "code") {
        EXPECT_EQ(opt(f, v1::min_bytes), kCodeBytesMin);
        EXPECT_EQ(opt(f, v1::max_bytes), kCodeBytesMax);
      }
      if (n == "name" || n == "actor" || n == "label") {
        EXPECT_EQ(opt(f, v1::min_bytes), 1u);
        EXPECT_EQ(opt(f, v1::max_bytes), kNameBytesMax);
      }
      if (n == "reason" && f->type() == pb::FieldDescriptor::TYPE_STRING) {
        EXPECT_EQ(opt(f, v1::min_bytes), 1u);
        EXPECT_EQ(opt(f, v1::max_bytes), kReasonBytesMax);
      }
      if (f->type() == pb::FieldDescriptor::TYPE_STRING && !f->is_repeated() && n != "page_token") {
        EXPECT_GT(opt(f, v1::max_bytes) + opt(f, v1::exact_bytes), 0u) << "unbounded string";
      }
      if (f->is_repeated()) {
        EXPECT_GT(opt(f, v1::max_items), 0u) << "unbounded list";
      }
    }
  }
  EXPECT_GE(memos, 6);  // Pay, PaymentItem, Issue, Redeem, FundReserve, Distribute, Transfer
  EXPECT_EQ(opt(v1::BatchPayRequest::descriptor()->FindFieldByName("payments"), v1::max_items),
            kBatchRequestsMax);
  EXPECT_EQ(opt(v1::BatchPayReply::descriptor()->FindFieldByName("results"), v1::max_items),
            kBatchRequestsMax);
  EXPECT_EQ(opt(v1::PaymentItem::descriptor()->FindFieldByName("request_id"), v1::max_bytes), 16u);
}

}  // namespace
}  // namespace ayni
