// The edge of SetoffService (proto/ayni/v1/setoff.proto): requests → invoice and set-off
// commands, invoices and run reports → protobuf. Same contract as convert.h: malformed
// input is INVALID_ARGUMENT naming the field; semantic rules stay in the ledger.
// Pure functions; thread-safe (the Ledger overloads read it, so call them where the ledger
// may be read: on the writer thread).
#pragma once

#include <string>
#include <string_view>

#include "ayni/v1/setoff.pb.h"
#include "clearing/invoices.h"
#include "clearing/ledger.h"
#include "clearing/status.h"

namespace ayni::server::api {

// 16 bytes, not all zero.
Result<InvoiceId> ParseInvoiceId(const std::string& bytes, std::string_view field);

Result<RegisterInvoiceCmd> ToCommand(const v1::RegisterInvoiceRequest& r);
Result<ConfirmInvoiceCmd> ToCommand(const v1::ConfirmInvoiceRequest& r);
Result<DisputeInvoiceCmd> ToCommand(const v1::DisputeInvoiceRequest& r);
// The dry_run flag is the caller's business: the command is the same.
Result<RunSetoffCmd> ToCommand(const v1::RunSetoffRequest& r);

void ToProto(const InvoiceRecord& inv, const Ledger& l, v1::Invoice* out);
// The run's report; `head` is the ledger's current head (for a committed run, read right
// after its batch).
void ToProto(const SetoffRun& run, bool dry_run, const Ledger& l, v1::SetoffReport* out);

}  // namespace ayni::server::api
