// The `ayni loans …` commands (issue 7) over LoanService: products, solidarity groups,
// disbursement, repayment, write-off, a loan with its schedule, listings and portfolios.
// Amounts are typed and shown as exact decimals at the national scale (loans are lent in
// national money or in a guaranteed currency, which shares that scale) with their currency.
// Output follows runner.cc: fields or tables, --json one object, --csv for the listings.
// Not thread-safe (writes to the context's streams).
#pragma once

#include "server/cli/args.h"
#include "server/cli/runner.h"

namespace ayni::cli {

bool IsLoanVerb(Verb v);
int RunLoanCommand(const Command& command, RunContext& ctx);

}  // namespace ayni::cli
