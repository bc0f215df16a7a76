// The loan book's edge (issue 7): LoanService requests → microcredit commands, loans,
// products and portfolios → replies (STYLE: protobuf types stop at a conversion file).
//
// Malformed input is refused with INVALID_ARGUMENT naming the field, before the writer;
// the ledger's own term and group checks (INVALID_TERMS, INVALID_GROUP) are mapped to
// INVALID_ARGUMENT by StatusOf() (convert.h). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ayni/v1/loans.pb.h"
#include "clearing/ledger.h"
#include "clearing/portfolio.h"
#include "clearing/status.h"

namespace ayni::server::api {

Result<CreateLoanProductCmd> ToCommand(const v1::CreateLoanProductRequest& r);
Result<CreateSolidarityGroupCmd> ToCommand(const v1::CreateSolidarityGroupRequest& r);
Result<DisburseLoanCmd> ToCommand(const v1::DisburseLoanRequest& r);
Result<RepayLoanCmd> ToCommand(const v1::RepayLoanRequest& r);
// `actor` names the caller (its key) in the journal.
Result<WriteOffLoanCmd> ToCommand(const v1::WriteOffLoanRequest& r, const std::string& actor);
// A loan-status filter of ListLoans: INVALID_ARGUMENT for an unknown value.
Result<LoanStatus> ToLoanStatus(v1::LoanStatus s, std::string_view field);

void ToProto(const Ledger& l, const LoanProduct& p, v1::LoanProduct* out);
// The loan at `now_ns` (interest payable, days past due, payoff); the schedule only when
// `with_schedule`.
void ToProto(const Ledger& l, const Loan& loan, uint64_t now_ns, bool with_schedule, v1::Loan* out);
// INTERNAL when a total does not fit int64 minor units (it cannot be reported exactly).
Status ToProto(const Ledger& l, const LoanPortfolio& p, v1::GetPortfolioReply* out);

// A portfolio total as int64 minor units; nullopt when it does not fit.
std::optional<int64_t> MinorOf(Int128 v);

}  // namespace ayni::server::api
