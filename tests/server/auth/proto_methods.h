// The RPCs of every ayni.v1 service, read from the generated descriptor pool, for the
// authorization tests (SPEC §6: the test walks every method of the service descriptors).
#pragma once

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ayni/v1/audit.pb.h"
#include "ayni/v1/cards.pb.h"
#include "ayni/v1/clearing.pb.h"
#include "ayni/v1/ledger.pb.h"
#include "ayni/v1/loans.pb.h"
#include "ayni/v1/reserves.pb.h"
#include "ayni/v1/setoff.pb.h"
#include "ayni/v1/setup.pb.h"

namespace ayni::auth::testing {

inline constexpr const char* kAyniServices[] = {
    "ayni.v1.SetupService",    "ayni.v1.LedgerService", "ayni.v1.ReservesService",
    "ayni.v1.ClearingService", "ayni.v1.AuditService",  "ayni.v1.SetoffService",
    "ayni.v1.LoanService",     "ayni.v1.CardService",
};

// State-changing methods whose request has no request_id: a kiosk batch is deduplicated
// per record (card, counter), so an uploaded-again batch is harmless (cards.proto).
inline constexpr const char* kWritesWithoutRequestId[] = {
    "/ayni.v1.CardService/SubmitOfflineBatch",
};

struct ProtoMethod {
  std::string full_name;  // "/ayni.v1.LedgerService/Pay"
  // Its request starts with `bytes request_id = 1` (common.proto), or it is one of
  // kWritesWithoutRequestId.
  bool changes_state;
};

// Every method of every ayni.v1 service. Touching one message per file links the
// generated code, whose static initialisers register the files in the generated pool.
inline std::vector<ProtoMethod> AyniMethods() {
  (void)ayni::v1::CreateBankRequest::descriptor();
  (void)ayni::v1::PayRequest::descriptor();
  (void)ayni::v1::IssueRequest::descriptor();
  (void)ayni::v1::RunInterbankCycleRequest::descriptor();
  (void)ayni::v1::ReserveAuditRequest::descriptor();
  (void)ayni::v1::RunSetoffRequest::descriptor();
  (void)ayni::v1::GetLoanRequest::descriptor();
  (void)ayni::v1::GetCardRequest::descriptor();
  const google::protobuf::DescriptorPool* pool = google::protobuf::DescriptorPool::generated_pool();
  std::vector<ProtoMethod> out;
  for (const char* name : kAyniServices) {
    const google::protobuf::ServiceDescriptor* s = pool->FindServiceByName(name);
    EXPECT_NE(s, nullptr) << name;
    if (s == nullptr) continue;
    for (int i = 0; i < s->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* m = s->method(i);
      const google::protobuf::FieldDescriptor* id = m->input_type()->FindFieldByNumber(1);
      const std::string full = "/" + s->full_name() + "/" + m->name();
      bool writes = id != nullptr && id->name() == "request_id";
      for (const char* w : kWritesWithoutRequestId) writes = writes || full == w;
      out.push_back({full, writes});
    }
  }
  return out;
}

}  // namespace ayni::auth::testing
