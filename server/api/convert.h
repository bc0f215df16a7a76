// The server's edge: protobuf requests → ledger commands, ledger results → protobuf
// replies (STYLE: protobuf types stop at a conversion file). Also the generic field-limit
// validator driven by the proto options exact_bytes/min_bytes/max_bytes/max_items.
//
// Malformed input is refused here with INVALID_ARGUMENT naming the field (SPEC §10), so
// it never reaches the writer. Semantic rules stay in the ledger; a ledger outcome that
// means malformed input (IsInvalidInput) is mapped to INVALID_ARGUMENT by StatusOf().
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ayni/v1/clearing.pb.h"
#include "ayni/v1/common.pb.h"
#include "ayni/v1/ledger.pb.h"
#include "ayni/v1/reserves.pb.h"
#include "ayni/v1/setup.pb.h"
#include "clearing/ledger.h"
#include "clearing/status.h"

namespace ayni::server::api {

// Every field of `m` (recursively, with paths like "payments[17].memo") against its
// declared limits.
Status CheckFieldLimits(const google::protobuf::Message& m);

// A 16-byte, not-all-zero request id.
Result<RequestId> ParseRequestId(const std::string& bytes, std::string_view field);

// The id of item `index` of a BatchPay whose own item id is empty:
// BLAKE2b-128("ayni-batch" ‖ batch request id ‖ be32(index)).
RequestId DeriveBatchItemId(const RequestId& batch, uint32_t index);

Result<InitDeploymentCmd> ToCommand(const v1::InitDeploymentRequest& r);
Result<CreateBankCmd> ToCommand(const v1::CreateBankRequest& r);
Result<CreateCurrencyCmd> ToCommand(const v1::CreateCurrencyRequest& r);
Result<CreateCircleCmd> ToCommand(const v1::CreateCircleRequest& r);
Result<CreateMemberCmd> ToCommand(const v1::CreateMemberRequest& r);
Result<AddCircleMemberCmd> ToCommand(const v1::AddCircleMemberRequest& r);
Result<OpenAccountCmd> ToCommand(const v1::OpenAccountRequest& r);
Result<SetAccountStatusCmd> ToCommand(const v1::SetAccountStatusRequest& r);
Result<SetAccountLimitsCmd> ToCommand(const v1::SetAccountLimitsRequest& r);
Result<PayCmd> ToCommand(const v1::PayRequest& r);
// All items or none: one malformed item refuses the whole batch; no two items may share
// an effective request id.
Result<std::vector<PayCmd>> ToCommands(const v1::BatchPayRequest& r);
Result<AccountAmountCmd> ToCommand(const v1::IssueRequest& r);
Result<AccountAmountCmd> ToCommand(const v1::RedeemRequest& r);
Result<AccountAmountCmd> ToCommand(const v1::DistributeRequest& r);
Result<FundReserveCmd> ToCommand(const v1::FundReserveRequest& r);
Result<RunCycleCmd> ToCommand(const v1::RunInterbankCycleRequest& r);

// OK, or INVALID_ARGUMENT when the ledger refused the request as malformed
// ("invalid_code: code"). Business refusals are OK at the transport level (returned as
// data in the reply's reason).
Status StatusOf(const OpResult& r);

v1::Reason ReasonOf(Outcome o);
void ToProto(const Account& a, const Ledger& l, v1::Account* out);
void ToProto(const CycleReport& c, v1::CycleReport* out);
void ToProto(const Ledger& l, v1::JournalHead* out);
void ToProto(const Transfer& t, uint64_t batch_sequence, v1::Transfer* out);
// The bank's coverage (invariant 3) with every figure of the coverage table (SPEC §7).
void ToProto(const Ledger& l, const Bank& b, v1::BankCoverage* out);
// The leg ids of a committed result, in leg order.
void AddTransferIds(const RequestId& request, const OpResult& r,
                    google::protobuf::RepeatedPtrField<std::string>* out);

}  // namespace ayni::server::api
