// The arguments of the `ayni loans …` commands (issue 7) beyond Command's shared fields,
// and their parser (loan_args.cc), kept apart from args.cc's grammar of the other verbs.
// Amounts stay decimal text (parsed at the currency's scale when the runner knows it).
// Pure functions; value types; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clearing/status.h"

namespace ayni::cli {

struct LoanArgs {
  uint64_t member = 0;        // disburse --member, list --member
  uint64_t group = 0;         // disburse --group, list --group
  uint64_t account = 0;       // disburse/repay --account (social-currency loans)
  std::string max_principal;  // product create --max (decimal text)
  int32_t rate_bp = 0;        // product create --rate-bp (monthly)
  int32_t instalments = 0;
  int32_t period_days = 0;
  int32_t grace_days = 0;
  std::vector<uint64_t> members;  // group create MEMBER_ID…
  std::vector<uint64_t> liable;   // group create --liable ID,ID…
  // list --status: ayni.v1.LoanStatus number; unset = every status.
  std::optional<int32_t> status;
};

struct Command;
enum class Verb;

// Fills `c` for a `loans …` verb from its positionals and options (args.cc checked their
// names and counts). INVALID_ARGUMENT ending with `usage` on a usage error.
Status FillLoanCommand(Verb verb, std::string_view usage, const std::vector<std::string>& pos,
                       const std::map<std::string, std::string>& opts, Command& c);

}  // namespace ayni::cli
