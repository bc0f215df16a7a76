#include "server/cli/args.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "clearing/dates.h"

namespace ayni::cli {
namespace {

// One command's grammar: its words, how many positionals follow them, which options it
// takes (with a value, or as a flag) and its usage line.
struct Spec {
  Verb verb;
  std::string_view words;
  size_t min_positionals;
  size_t max_positionals;
  std::vector<std::string_view> value_options;
  std::vector<std::string_view> flag_options;
  std::string_view usage;
};

const std::vector<Spec>& Specs() {
  static const std::vector<Spec> specs = {
      {Verb::kStatus, "status", 0, 0, {}, {}, "status"},
      {Verb::kInit,
       "init",
       1,
       1,
       {"--scale", "--request-id"},
       {},
       "init NATIONAL_CODE [--scale N]"},
      {Verb::kBankCreate, "bank create", 2, 2, {"--request-id"}, {}, "bank create CODE NAME"},
      {Verb::kBankList, "bank list", 0, 0, {}, {}, "bank list"},
      {Verb::kCurrencyCreate,
       "currency create",
       2,
       2,
       {"--coverage-bp", "--fee-bp", "--request-id"},
       {},
       "currency create BANK_CODE CODE [--coverage-bp N] [--fee-bp N]"},
      {Verb::kCurrencyList, "currency list", 0, 0, {"--bank"}, {}, "currency list [--bank CODE]"},
      {Verb::kCircleCreate,
       "circle create",
       3,
       3,
       {"--credit-limit", "--scale", "--request-id"},
       {},
       "circle create BANK_CODE CODE NAME --credit-limit AMOUNT [--scale N]"},
      {Verb::kCircleAddMember,
       "circle add-member",
       2,
       2,
       {"--request-id"},
       {"--admin"},
       "circle add-member CIRCLE_ID MEMBER_ID [--admin]"},
      {Verb::kCircleList, "circle list", 0, 0, {"--bank"}, {}, "circle list [--bank CODE]"},
      {Verb::kMemberCreate,
       "member create",
       2,
       2,
       {"--request-id"},
       {},
       "member create BANK_CODE NAME"},
      {Verb::kAccountOpen,
       "account open",
       2,
       2,
       {"--request-id"},
       {"--merchant"},
       "account open MEMBER_ID CURRENCY_CODE [--merchant]"},
      {Verb::kAccountShow, "account show", 1, 1, {}, {}, "account show ACCOUNT_ID"},
      {Verb::kAccountStatement, "account statement", 1, 1, {}, {}, "account statement ACCOUNT_ID"},
      {Verb::kAccountList,
       "account list",
       0,
       0,
       {"--bank", "--member"},
       {},
       "account list [--bank CODE] [--member MEMBER_ID]"},
      {Verb::kAccountFreeze,
       "account freeze",
       1,
       1,
       {"--actor", "--reason", "--request-id"},
       {},
       "account freeze ACCOUNT_ID --actor A --reason R"},
      {Verb::kAccountUnfreeze,
       "account unfreeze",
       1,
       1,
       {"--actor", "--reason", "--request-id"},
       {},
       "account unfreeze ACCOUNT_ID --actor A --reason R"},
      {Verb::kAccountClose,
       "account close",
       1,
       1,
       {"--actor", "--reason", "--request-id"},
       {},
       "account close ACCOUNT_ID --actor A --reason R"},
      {Verb::kAccountLimits,
       "account limits",
       1,
       1,
       {"--credit-limit", "--ceiling", "--actor", "--reason", "--request-id"},
       {},
       "account limits ACCOUNT_ID --credit-limit AMOUNT [--ceiling AMOUNT] --actor A --reason R"},
      {Verb::kIssue,
       "issue",
       2,
       2,
       {"--memo", "--request-id"},
       {},
       "issue ACCOUNT_ID AMOUNT [--memo M]"},
      {Verb::kRedeem,
       "redeem",
       2,
       2,
       {"--memo", "--request-id"},
       {},
       "redeem ACCOUNT_ID AMOUNT [--memo M]"},
      {Verb::kPay,
       "pay",
       3,
       3,
       {"--memo", "--request-id"},
       {},
       "pay FROM_ACCOUNT_ID TO_ACCOUNT_ID AMOUNT [--memo M]"},
      {Verb::kFundReserve,
       "fund-reserve",
       2,
       2,
       {"--memo", "--request-id"},
       {"--from-fees"},
       "fund-reserve BANK_CODE AMOUNT [--from-fees] [--memo M]"},
      {Verb::kDistribute,
       "distribute",
       2,
       2,
       {"--memo", "--request-id"},
       {},
       "distribute ACCOUNT_ID AMOUNT [--memo M]"},
      {Verb::kCoverage, "coverage", 0, 1, {}, {}, "coverage [BANK_CODE]"},
      {Verb::kClearingRun, "clearing run", 0, 0, {"--request-id"}, {}, "clearing run"},
      {Verb::kClearingShow, "clearing show", 0, 1, {}, {}, "clearing show [CYCLE_NUMBER]"},
      {Verb::kClearingList, "clearing list", 0, 0, {}, {}, "clearing list"},
      {Verb::kAuditReserves,
       "audit reserves",
       0,
       0,
       {"--bank"},
       {},
       "audit reserves [--bank CODE]"},
      {Verb::kAuditJournal,
       "audit journal",
       0,
       0,
       {},
       {"--memory-only"},
       "audit journal [--memory-only]"},
      {Verb::kKeyCreate,
       "key create",
       3,
       4,
       {"--token-file", "--request-id"},
       {},
       "key create ROLE SCOPE_KIND [ID|BANK_CODE] LABEL [--token-file FILE]"},
      {Verb::kKeyList, "key list", 0, 0, {"--bank"}, {"--all"}, "key list [--bank CODE] [--all]"},
      {Verb::kKeyRevoke,
       "key revoke",
       1,
       1,
       {"--actor", "--reason", "--request-id"},
       {},
       "key revoke KEY_ID|ayni_<16 hex>_ --actor A --reason R"},
      {Verb::kInvoiceRegister,
       "invoice register",
       4,
       4,
       {"--due", "--reference", "--invoice-id", "--request-id"},
       {},
       "invoice register DEBTOR_MEMBER_ID CREDITOR_MEMBER_ID CURRENCY_CODE AMOUNT --due "
       "YYYY-MM-DD [--reference REF] [--invoice-id HEX32]"},
      {Verb::kInvoiceConfirm,
       "invoice confirm",
       1,
       1,
       {"--request-id"},
       {},
       "invoice confirm INVOICE_ID"},
      {Verb::kInvoiceDispute,
       "invoice dispute",
       1,
       1,
       {"--reason", "--request-id"},
       {},
       "invoice dispute INVOICE_ID --reason R"},
      {Verb::kInvoiceList,
       "invoice list",
       0,
       0,
       {"--member", "--status"},
       {"--open"},
       "invoice list [--member MEMBER_ID] [--status registered|confirmed|disputed] [--open]"},
      {Verb::kSetoffRun,
       "setoff run",
       0,
       0,
       {"--cutoff", "--currency", "--request-id"},
       {"--dry-run", "--mutual-credit"},
       "setoff run [--cutoff YYYY-MM-DD] [--currency CODE] [--dry-run] [--mutual-credit]"},
      {Verb::kSetoffShow, "setoff show", 0, 1, {}, {}, "setoff show [RUN_ID|RUN_NUMBER]"},
      // ---- microcredit (loan_args.cc) ----
      {Verb::kLoanProductCreate,
       "loans product create",
       3,
       3,
       {"--max", "--rate-bp", "--instalments", "--period-days", "--grace-days", "--request-id"},
       {},
       "loans product create BANK_CODE NAME CURRENCY_CODE --max AMOUNT --instalments N "
       "--period-days N [--rate-bp N] [--grace-days N]"},
      {Verb::kLoanProductList,
       "loans product list",
       0,
       0,
       {"--bank"},
       {},
       "loans product list [--bank CODE]"},
      {Verb::kLoanGroupCreate,
       "loans group create",
       5,
       12,
       {"--liable", "--request-id"},
       {},
       "loans group create BANK_CODE NAME MEMBER_ID MEMBER_ID MEMBER_ID… --liable ID,ID…"},
      {Verb::kLoanDisburse,
       "loans disburse",
       2,
       2,
       {"--member", "--group", "--account", "--memo", "--request-id"},
       {},
       "loans disburse PRODUCT_ID AMOUNT --member ID|--group ID [--account ID] [--memo M]"},
      {Verb::kLoanRepay,
       "loans repay",
       2,
       2,
       {"--account", "--memo", "--request-id"},
       {},
       "loans repay LOAN_ID AMOUNT [--account ID] [--memo M]"},
      {Verb::kLoanWriteOff,
       "loans write-off",
       1,
       1,
       {"--reason", "--request-id"},
       {},
       "loans write-off LOAN_ID --reason R"},
      {Verb::kLoanShow, "loans show", 1, 1, {}, {}, "loans show LOAN_ID"},
      {Verb::kLoanList,
       "loans list",
       0,
       0,
       {"--bank", "--member", "--group", "--status"},
       {},
       "loans list --bank CODE [--member ID] [--group ID] [--status active|repaid|written-off]"},
      {Verb::kLoanPortfolio,
       "loans portfolio",
       0,
       0,
       {"--bank"},
       {},
       "loans portfolio [--bank CODE]"},
      // ---- cards and kiosks (card_args.cc) ----
      {Verb::kKioskRegister,
       "kiosk register",
       0,
       0,
       {"--terminal-id", "--public-key", "--merchant", "--label", "--request-id"},
       {},
       "kiosk register --terminal-id HEX32 --public-key HEX64 --merchant ACCOUNT_ID --label "
       "TEXT"},
      {Verb::kCardBlock,
       "card block",
       1,
       1,
       {"--actor", "--reason", "--request-id"},
       {},
       "card block CARD_ID --actor A --reason R"},
      {Verb::kCardShow, "card show", 1, 1, {}, {}, "card show CARD_ID"},
      {Verb::kCardDenyList, "card deny-list", 0, 0, {}, {}, "card deny-list"},
      {Verb::kAuditCards, "audit cards", 0, 0, {"--bank"}, {}, "audit cards [--bank CODE]"},
  };
  return specs;
}

constexpr std::string_view kGlobalUsage =
    "usage: ayni [--server HOST:PORT] [--tls-ca FILE [--tls-server-name NAME]] [--key-file FILE] "
    "[--json|--csv] [--timeout SECONDS] COMMAND ...  (ayni --help lists the commands)";

Status Usage(const std::string& what, std::string_view usage_line) {
  std::string m = what;
  m += "\nusage: ayni ";
  m += usage_line;
  return Status::InvalidArgument(std::move(m));
}

Status GlobalUsage(const std::string& what) {
  return Status::InvalidArgument(what + "\n" + std::string(kGlobalUsage));
}

bool Contains(const std::vector<std::string_view>& v, std::string_view s) {
  for (auto x : v) {
    if (x == s) return true;
  }
  return false;
}

std::optional<int64_t> ParseI64NonNeg(std::string_view s) {
  auto v = ParseU64(s);
  if (!v || *v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(*v);
}

const std::map<std::string, uint32_t>& Roles() {
  static const std::map<std::string, uint32_t> m = {{"admin", 1},  {"teller", 2},  {"kiosk", 3},
                                                    {"member", 4}, {"auditor", 5}, {"clearing", 6}};
  return m;
}
const std::map<std::string, uint32_t>& ScopeKinds() {
  static const std::map<std::string, uint32_t> m = {
      {"deployment", 1}, {"bank", 2}, {"account", 3}, {"terminal", 4}};
  return m;
}

std::string Lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return r;
}

// The invoice and set-off commands' fields.
Status FillSetoff(const Spec& spec, const std::vector<std::string>& pos,
                  const std::map<std::string, std::string>& opts,
                  const std::set<std::string>& flags, Command& c) {
  auto usage = [&](const std::string& what) { return Usage(what, spec.usage); };
  auto date_opt = [&](const char* opt) -> Status {
    auto it = opts.find(opt);
    if (it == opts.end()) return Status::Ok();
    c.day = ParseDate(it->second);
    if (!c.day) {
      return usage(std::string(opt) + " must be a date YYYY-MM-DD (1970 … 9999), got \"" +
                   it->second + "\"");
    }
    return Status::Ok();
  };
  auto hex_id = [&](const std::string& text, const char* what,
                    std::optional<RequestIdBytes>& out) -> Status {
    out = ParseRequestIdHex(text);
    if (!out) return usage(std::string(what) + " must be 32 hex digits, not all zero");
    return Status::Ok();
  };
  auto member = [&](const std::string& text, const char* what, uint64_t& out) -> Status {
    auto v = ParseU64(text);
    if (!v || *v == 0) {
      return usage(std::string(what) + " must be a positive integer id, got \"" + text + "\"");
    }
    out = *v;
    return Status::Ok();
  };
  Status s;
  switch (spec.verb) {
    case Verb::kInvoiceRegister:
      if (!(s = member(pos[0], "DEBTOR_MEMBER_ID", c.id)).ok()) return s;
      if (!(s = member(pos[1], "CREDITOR_MEMBER_ID", c.other_id)).ok()) return s;
      if (c.id == c.other_id) return usage("DEBTOR and CREDITOR are the same member");
      if (pos[2].empty()) return usage("CURRENCY_CODE must not be empty");
      c.currency_code = pos[2];
      if (!IsDecimalSyntax(pos[3])) {
        return usage("AMOUNT must be a plain decimal like 30 or 30.50, got \"" + pos[3] + "\"");
      }
      c.amount = pos[3];
      if (!opts.count("--due")) return usage("missing --due");
      if (!(s = date_opt("--due")).ok()) return s;
      if (auto it = opts.find("--reference"); it != opts.end()) c.reference = it->second;
      if (auto it = opts.find("--invoice-id"); it != opts.end()) {
        return hex_id(it->second, "--invoice-id", c.invoice_id);
      }
      return Status::Ok();
    case Verb::kInvoiceConfirm:
      return hex_id(pos[0], "INVOICE_ID", c.invoice_id);
    case Verb::kInvoiceDispute: {
      if (!(s = hex_id(pos[0], "INVOICE_ID", c.invoice_id)).ok()) return s;
      auto it = opts.find("--reason");
      if (it == opts.end()) return usage("missing --reason");
      if (it->second.empty()) return usage("--reason must not be empty");
      c.reason = it->second;
      return Status::Ok();
    }
    case Verb::kInvoiceList:
      if (auto it = opts.find("--member"); it != opts.end()) {
        if (!(s = member(it->second, "--member", c.member_filter)).ok()) return s;
      }
      if (auto it = opts.find("--status"); it != opts.end()) {
        static const std::map<std::string, uint32_t> kStatus = {
            {"registered", 1}, {"confirmed", 2}, {"disputed", 3}};
        auto st = kStatus.find(Lower(it->second));
        if (st == kStatus.end()) {
          return usage("--status must be one of registered, confirmed, disputed");
        }
        c.invoice_status = st->second;
      }
      c.open_only = flags.count("--open") > 0;
      return Status::Ok();
    case Verb::kSetoffRun:
      if (!(s = date_opt("--cutoff")).ok()) return s;
      if (auto it = opts.find("--currency"); it != opts.end()) {
        if (it->second.empty()) return usage("--currency must not be empty");
        c.currency_code = it->second;
      }
      c.dry_run = flags.count("--dry-run") > 0;
      c.mutual_credit = flags.count("--mutual-credit") > 0;
      return Status::Ok();
    case Verb::kSetoffShow:
      if (pos.empty()) return Status::Ok();
      if (pos[0].size() == 32) return hex_id(pos[0], "RUN_ID", c.run_id);
      if (auto v = ParseU64(pos[0]); v && *v > 0) {
        c.run_number = *v;
        return Status::Ok();
      }
      return usage("RUN must be a run id (32 hex digits) or a run number");
    default:
      return usage("not an invoice or set-off command");
  }
}

// Fills the command's fields from its positionals and options.
Status Fill(const Spec& spec, const std::vector<std::string>& pos,
            const std::map<std::string, std::string>& opts, const std::set<std::string>& flags,
            Command& c) {
  auto usage = [&](const std::string& what) { return Usage(what, spec.usage); };
  auto id_arg = [&](size_t i, const char* what, uint64_t& out) -> Status {
    auto v = ParseU64(pos[i]);
    if (!v || *v == 0) {
      return usage(std::string(what) + " must be a positive integer id, got \"" + pos[i] + "\"");
    }
    out = *v;
    return Status::Ok();
  };
  auto amount_arg = [&](const std::string& text, const char* what, std::string& out) -> Status {
    if (!IsDecimalSyntax(text)) {
      return usage(std::string(what) + " must be a plain decimal like 30 or 30.50, got \"" + text +
                   "\"");
    }
    out = text;
    return Status::Ok();
  };
  auto required = [&](const char* opt, std::string& out) -> Status {
    auto it = opts.find(opt);
    if (it == opts.end()) return usage(std::string("missing ") + opt);
    if (it->second.empty()) return usage(std::string(opt) + " must not be empty");
    out = it->second;
    return Status::Ok();
  };
  auto optional_str = [&](const char* opt, std::string& out) {
    auto it = opts.find(opt);
    if (it != opts.end()) out = it->second;
  };
  auto bp_opt = [&](const char* opt, std::optional<int32_t>& out) -> Status {
    auto it = opts.find(opt);
    if (it == opts.end()) return Status::Ok();
    auto v = ParseU64(it->second);
    if (!v || *v > 100000) {
      return usage(std::string(opt) + " must be basis points 0 … 100000, got \"" + it->second +
                   "\"");
    }
    out = static_cast<int32_t>(*v);
    return Status::Ok();
  };
  auto scale_opt = [&]() -> Status {
    auto it = opts.find("--scale");
    if (it == opts.end()) return Status::Ok();
    auto v = ParseI64NonNeg(it->second);
    bool power_of_ten = v.has_value() && *v >= 1;
    for (int64_t x = v.value_or(0); power_of_ten && x > 1; x /= 10) {
      if (x % 10 != 0) power_of_ten = false;
    }
    if (!power_of_ten || *v > 1000000000) {
      return usage("--scale must be a power of ten 1 … 1000000000 (minor units per unit), got \"" +
                   it->second + "\"");
    }
    c.scale = *v;
    return Status::Ok();
  };
  auto text_arg = [&](size_t i, const char* what, std::string& out) -> Status {
    if (pos[i].empty()) return usage(std::string(what) + " must not be empty");
    out = pos[i];
    return Status::Ok();
  };
  auto actor_reason = [&]() -> Status {
    if (Status s = required("--actor", c.actor); !s.ok()) return s;
    return required("--reason", c.reason);
  };

  if (auto it = opts.find("--request-id"); it != opts.end()) {
    c.request_id = ParseRequestIdHex(it->second);
    if (!c.request_id) return usage("--request-id must be 32 hex digits, not all zero");
  }
  optional_str("--memo", c.memo);
  c.flag = flags.count("--admin") || flags.count("--merchant") || flags.count("--from-fees") ||
           flags.count("--memory-only");

  Status s;
  switch (spec.verb) {
    case Verb::kInit:
      if (!(s = text_arg(0, "NATIONAL_CODE", c.code)).ok()) return s;
      if (c.code.size() != 3) return usage("NATIONAL_CODE must be an ISO 4217 code like BRL");
      return scale_opt();
    case Verb::kBankCreate:
    case Verb::kMemberCreate:
      if (!(s = text_arg(0, spec.verb == Verb::kBankCreate ? "CODE" : "BANK_CODE",
                         spec.verb == Verb::kBankCreate ? c.code : c.bank_code))
               .ok())
        return s;
      return text_arg(1, "NAME", c.text);
    case Verb::kBankList:
    case Verb::kStatus:
    case Verb::kClearingRun:
    case Verb::kClearingList:
    case Verb::kAuditJournal:
      return Status::Ok();
    case Verb::kCurrencyCreate:
      if (!(s = text_arg(0, "BANK_CODE", c.bank_code)).ok()) return s;
      if (!(s = text_arg(1, "CODE", c.code)).ok()) return s;
      if (!(s = bp_opt("--coverage-bp", c.coverage_bp)).ok()) return s;
      if (c.coverage_bp && *c.coverage_bp == 0) return usage("--coverage-bp must be at least 1");
      if (!(s = bp_opt("--fee-bp", c.fee_bp)).ok()) return s;
      if (c.fee_bp && *c.fee_bp > 10000) return usage("--fee-bp must be at most 10000");
      return Status::Ok();
    case Verb::kCurrencyList:
    case Verb::kCircleList:
    case Verb::kAuditReserves:
      optional_str("--bank", c.bank_code);
      return Status::Ok();
    case Verb::kCircleCreate: {
      if (!(s = text_arg(0, "BANK_CODE", c.bank_code)).ok()) return s;
      if (!(s = text_arg(1, "CODE", c.code)).ok()) return s;
      if (!(s = text_arg(2, "NAME", c.text)).ok()) return s;
      std::string limit;
      if (!(s = required("--credit-limit", limit)).ok()) return s;
      if (!(s = amount_arg(limit, "--credit-limit", c.amount)).ok()) return s;
      return scale_opt();
    }
    case Verb::kCircleAddMember:
      if (!(s = id_arg(0, "CIRCLE_ID", c.id)).ok()) return s;
      return id_arg(1, "MEMBER_ID", c.other_id);
    case Verb::kAccountOpen:
      if (!(s = id_arg(0, "MEMBER_ID", c.id)).ok()) return s;
      return text_arg(1, "CURRENCY_CODE", c.currency_code);
    case Verb::kAccountShow:
    case Verb::kAccountStatement:
      return id_arg(0, "ACCOUNT_ID", c.id);
    case Verb::kAccountList:
      optional_str("--bank", c.bank_code);
      if (auto it = opts.find("--member"); it != opts.end()) {
        auto v = ParseU64(it->second);
        if (!v || *v == 0) return usage("--member must be a positive integer id");
        c.member_filter = *v;
      }
      return Status::Ok();
    case Verb::kAccountFreeze:
    case Verb::kAccountUnfreeze:
    case Verb::kAccountClose:
      if (!(s = id_arg(0, "ACCOUNT_ID", c.id)).ok()) return s;
      return actor_reason();
    case Verb::kAccountLimits: {
      if (!(s = id_arg(0, "ACCOUNT_ID", c.id)).ok()) return s;
      std::string limit;
      if (!(s = required("--credit-limit", limit)).ok()) return s;
      if (!(s = amount_arg(limit, "--credit-limit", c.amount)).ok()) return s;
      if (auto it = opts.find("--ceiling"); it != opts.end()) {
        std::string ceiling;
        if (!(s = amount_arg(it->second, "--ceiling", ceiling)).ok()) return s;
        c.ceiling = ceiling;
      }
      return actor_reason();
    }
    case Verb::kIssue:
    case Verb::kRedeem:
    case Verb::kDistribute:
      if (!(s = id_arg(0, "ACCOUNT_ID", c.id)).ok()) return s;
      return amount_arg(pos[1], "AMOUNT", c.amount);
    case Verb::kPay:
      if (!(s = id_arg(0, "FROM_ACCOUNT_ID", c.id)).ok()) return s;
      if (!(s = id_arg(1, "TO_ACCOUNT_ID", c.other_id)).ok()) return s;
      if (c.id == c.other_id) return usage("FROM and TO are the same account");
      return amount_arg(pos[2], "AMOUNT", c.amount);
    case Verb::kFundReserve:
      if (!(s = text_arg(0, "BANK_CODE", c.bank_code)).ok()) return s;
      return amount_arg(pos[1], "AMOUNT", c.amount);
    case Verb::kCoverage:
      if (!pos.empty()) c.bank_code = pos[0];
      return Status::Ok();
    case Verb::kClearingShow:
      if (!pos.empty()) {
        auto v = ParseU64(pos[0]);
        if (!v || *v == 0) return usage("CYCLE_NUMBER must be a positive integer");
        c.cycle_number = *v;
      }
      return Status::Ok();
    case Verb::kKeyCreate: {
      auto role = Roles().find(Lower(pos[0]));
      if (role == Roles().end()) {
        return usage("ROLE must be one of admin, teller, kiosk, member, auditor, clearing");
      }
      c.role = role->second;
      auto kind = ScopeKinds().find(Lower(pos[1]));
      if (kind == ScopeKinds().end()) {
        return usage("SCOPE_KIND must be one of deployment, bank, account, terminal");
      }
      c.scope_kind = kind->second;
      const bool deployment = c.scope_kind == 1;
      if (deployment && pos.size() != 3) return usage("a deployment scope takes no ID");
      if (!deployment && pos.size() != 4) return usage("this scope needs an ID");
      if (!deployment) {
        c.scope_ref = pos[2];
        // A bank may be named by its code; the other scopes need a numeric id.
        auto v = ParseU64(c.scope_ref);
        if (c.scope_kind != 2 && (!v || *v == 0)) return usage("ID must be a positive integer");
        if (v && *v == 0) return usage("ID must be a positive integer");
      }
      if (!(s = text_arg(pos.size() - 1, "LABEL", c.text)).ok()) return s;
      optional_str("--token-file", c.token_file);
      return Status::Ok();
    }
    case Verb::kKeyList:
      optional_str("--bank", c.bank_code);
      c.include_revoked = flags.count("--all") > 0;
      return Status::Ok();
    case Verb::kInvoiceRegister:
    case Verb::kInvoiceConfirm:
    case Verb::kInvoiceDispute:
    case Verb::kInvoiceList:
    case Verb::kSetoffRun:
    case Verb::kSetoffShow:
      return FillSetoff(spec, pos, opts, flags, c);
    case Verb::kKeyRevoke: {
      // The decimal key id of `key list`, or the token prefix "ayni_<16 hex>_" it shows.
      std::string_view ref = pos[0];
      if (ref.substr(0, 5) == "ayni_" && ref.size() == 22 && ref.back() == '_') {
        uint64_t v = 0;
        bool hex = true;
        for (char ch : ref.substr(5, 16)) {
          const bool digit = ch >= '0' && ch <= '9';
          const bool lower = ch >= 'a' && ch <= 'f';
          hex = hex && (digit || lower);
          v = v * 16 + static_cast<uint64_t>(digit ? ch - '0' : ch - 'a' + 10);
        }
        if (!hex || v == 0) return usage("KEY_ID must be a key id or its prefix ayni_<16 hex>_");
        c.id = v;
      } else if (Status st = id_arg(0, "KEY_ID", c.id); !st.ok()) {
        return st;
      }
      return actor_reason();
    }
    case Verb::kLoanProductCreate:
    case Verb::kLoanProductList:
    case Verb::kLoanGroupCreate:
    case Verb::kLoanDisburse:
    case Verb::kLoanRepay:
    case Verb::kLoanWriteOff:
    case Verb::kLoanShow:
    case Verb::kLoanList:
    case Verb::kLoanPortfolio:
      return FillLoanCommand(spec.verb, spec.usage, pos, opts, c);
    case Verb::kKioskRegister:
    case Verb::kCardBlock:
    case Verb::kCardShow:
    case Verb::kCardDenyList:
    case Verb::kAuditCards:
      return FillCardCommand(spec.verb, spec.usage, pos, opts, c);
  }
  return Status::Ok();
}

}  // namespace

bool ParseHexBytes(std::string_view hex, uint8_t* out, size_t size) {
  if (hex.size() != 2 * size) return false;
  for (size_t i = 0; i < size; ++i) {
    int v = 0;
    for (size_t j = 0; j < 2; ++j) {
      const char ch = hex[2 * i + j];
      int d;
      if (ch >= '0' && ch <= '9') {
        d = ch - '0';
      } else if (ch >= 'a' && ch <= 'f') {
        d = ch - 'a' + 10;
      } else if (ch >= 'A' && ch <= 'F') {
        d = ch - 'A' + 10;
      } else {
        return false;
      }
      v = v * 16 + d;
    }
    out[i] = static_cast<uint8_t>(v);
  }
  return true;
}

std::optional<RequestIdBytes> ParseRequestIdHex(std::string_view hex) {
  RequestIdBytes out{};
  if (!ParseHexBytes(hex, out.data(), out.size())) return std::nullopt;
  for (uint8_t b : out) {
    if (b != 0) return out;
  }
  return std::nullopt;
}

std::string HexOf(const uint8_t* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    s += kDigits[data[i] >> 4];
    s += kDigits[data[i] & 15];
  }
  return s;
}

std::string UsageText() {
  std::string s(kGlobalUsage);
  s += "\n\nglobal options: --server HOST:PORT or unix:/PATH (or AYNI_SERVER; default ";
  s += kDefaultServer;
  s += "), --tls-ca FILE (or AYNI_TLS_CA: TLS, trusting that CA; without it plaintext to "
       "loopback only), --tls-server-name NAME (the name in the server's certificate, when "
       "not the host dialled), --key-file FILE (or AYNI_KEY), --json, --csv (list commands), "
       "--timeout SECONDS\n"
       "state-changing commands take --request-id HEX32 to retry exactly once\n\ncommands:\n";
  for (const Spec& spec : Specs()) {
    s += "  ayni ";
    s += spec.usage;
    s += '\n';
  }
  s += "\nCARD_ID and --terminal-id are 32 hex digits, --public-key 64. Cards are registered "
       "and loaded with a card reader: `ayni-kiosk issue` and `ayni-kiosk load`, not here. "
       "After `kiosk register`, give the kiosk a key: `ayni key create kiosk terminal "
       "KIOSK_ID LABEL --token-file FILE`.\n"
       "`audit cards` exits 1 when a currency's CARD_FLOAT differs from its shadow balances "
       "plus pending loads; cloned (blocked) cards and counter or kiosk gaps are findings "
       "printed as `FINDING: …` on stderr, exit 0.\n";
  s += "\nexit codes: 0 ok, 1 audit found a fault, 2 refused by the server, "
       "3 transport error, 64 usage error\n";
  return s;
}

Result<Invocation> ParseArgs(const std::vector<std::string>& args, std::string_view env_server,
                             std::string_view env_tls_ca) {
  Invocation inv;
  inv.global.server = env_server.empty() ? std::string(kDefaultServer) : std::string(env_server);
  inv.global.tls_ca = std::string(env_tls_ca);

  // Global options may appear anywhere. Options needing a value take the next argument
  // when not written --opt=value, and which options those are depends on the command, so
  // find the command words first (skipping global options and their values).
  static const std::set<std::string> kGlobalValue = {"--server", "--key-file", "--timeout",
                                                     "--tls-ca", "--tls-server-name"};
  static const std::set<std::string> kGlobalFlag = {"--json", "--csv", "--help"};
  std::vector<std::string> positional;
  bool only_positionals = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_positionals || a.size() < 2 || a.compare(0, 2, "--") != 0) {
      positional.push_back(a);
      if (positional.size() == 3) break;
      continue;
    }
    if (a == "--") {
      only_positionals = true;
      continue;
    }
    if (kGlobalValue.count(a)) ++i;
    if (!positional.empty()) break;  // the command's own options start here
  }
  size_t words = 0;
  const Spec* spec = nullptr;
  if (!positional.empty() && (positional[0] == "help" || positional[0] == "-h")) {
    inv.help = true;
    return inv;
  }
  for (const Spec& sp : Specs()) {
    const size_t n = 1 + static_cast<size_t>(std::count(sp.words.begin(), sp.words.end(), ' '));
    if (positional.size() < n) continue;
    std::string w = positional[0];
    for (size_t k = 1; k < n; ++k) w += " " + positional[k];
    if (w == sp.words) {
      spec = &sp;
      words = n;
      break;
    }
  }

  // Re-scan with knowledge of which options take values, pulling values from argv.
  positional.clear();
  std::map<std::string, std::string> opts;
  std::set<std::string> flags;
  bool help = false;
  only_positionals = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_positionals || a.size() < 2 || a.compare(0, 2, "--") != 0) {
      positional.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positionals = true;
      continue;
    }
    const size_t eq = a.find('=');
    const std::string name = eq == std::string::npos ? a : a.substr(0, eq);
    const bool global_value = kGlobalValue.count(name) > 0;
    const bool global_flag = kGlobalFlag.count(name) > 0;
    const bool cmd_value = spec && Contains(spec->value_options, name);
    const bool cmd_flag = spec && Contains(spec->flag_options, name);
    if (!global_value && !global_flag && !cmd_value && !cmd_flag) {
      const std::string what = "unknown option " + name;
      return spec ? Usage(what, spec->usage) : GlobalUsage(what);
    }
    if (global_flag || cmd_flag) {
      if (eq != std::string::npos) {
        const std::string what = name + " takes no value";
        return spec ? Usage(what, spec->usage) : GlobalUsage(what);
      }
      if (name == "--help") help = true;
      flags.insert(name);
      continue;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = a.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      const std::string what = name + " needs a value";
      return spec ? Usage(what, spec->usage) : GlobalUsage(what);
    }
    if (opts.count(name)) {
      const std::string what = name + " given twice";
      return spec ? Usage(what, spec->usage) : GlobalUsage(what);
    }
    opts[name] = value;
  }

  if (help) {
    inv.help = true;
    return inv;
  }
  if (auto it = opts.find("--server"); it != opts.end()) inv.global.server = it->second;
  if (auto it = opts.find("--key-file"); it != opts.end()) {
    if (it->second.empty()) return GlobalUsage("--key-file must not be empty");
    inv.global.key_file = it->second;
  }
  if (auto it = opts.find("--tls-ca"); it != opts.end()) {
    if (it->second.empty()) return GlobalUsage("--tls-ca must not be empty");
    inv.global.tls_ca = it->second;
  }
  if (auto it = opts.find("--tls-server-name"); it != opts.end()) {
    if (it->second.empty()) return GlobalUsage("--tls-server-name must not be empty");
    if (inv.global.tls_ca.empty()) {
      return GlobalUsage("--tls-server-name needs TLS: pass --tls-ca FILE or set AYNI_TLS_CA");
    }
    inv.global.tls_server_name = it->second;
  }
  if (auto it = opts.find("--timeout"); it != opts.end()) {
    auto v = ParseU64(it->second);
    if (!v || *v == 0 || *v > 3600) return GlobalUsage("--timeout must be 1 … 3600 seconds");
    inv.global.timeout_s = static_cast<int>(*v);
  }
  if (flags.count("--json") && flags.count("--csv")) {
    return GlobalUsage("--json and --csv exclude each other");
  }
  if (flags.count("--json")) inv.global.format = OutputFormat::kJson;
  if (flags.count("--csv")) inv.global.format = OutputFormat::kCsv;

  if (positional.empty()) return GlobalUsage("no command given");
  if (spec == nullptr) {
    std::string w = positional[0];
    if (positional.size() > 1) w += " " + positional[1];
    return GlobalUsage("unknown command \"" + w + "\"");
  }
  positional.erase(positional.begin(), positional.begin() + static_cast<long>(words));
  if (positional.size() < spec->min_positionals) {
    return Usage("too few arguments for " + std::string(spec->words), spec->usage);
  }
  if (positional.size() > spec->max_positionals) {
    return Usage("too many arguments for " + std::string(spec->words) + ": \"" +
                     positional[spec->max_positionals] + "\"",
                 spec->usage);
  }
  const bool is_list = spec->verb == Verb::kBankList || spec->verb == Verb::kCurrencyList ||
                       spec->verb == Verb::kAccountList || spec->verb == Verb::kClearingList ||
                       spec->verb == Verb::kKeyList || spec->verb == Verb::kCoverage ||
                       spec->verb == Verb::kAuditReserves || spec->verb == Verb::kCircleList ||
                       spec->verb == Verb::kAccountStatement ||
                       // CSV export of invoices and of a run's notices.
                       spec->verb == Verb::kInvoiceList || spec->verb == Verb::kSetoffRun ||
                       spec->verb == Verb::kSetoffShow || spec->verb == Verb::kLoanProductList ||
                       spec->verb == Verb::kLoanShow || spec->verb == Verb::kLoanList ||
                       spec->verb == Verb::kLoanPortfolio || spec->verb == Verb::kCardDenyList ||
                       spec->verb == Verb::kAuditCards;
  if (inv.global.format == OutputFormat::kCsv && !is_list) {
    return Usage("--csv is for list commands", spec->usage);
  }
  inv.command.verb = spec->verb;
  inv.command.name = std::string(spec->words);
  if (Status s = Fill(*spec, positional, opts, flags, inv.command); !s.ok()) return s;
  return inv;
}

}  // namespace ayni::cli
