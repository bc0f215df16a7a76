// The admin CLI's command line (SPEC §7): argv → an Invocation (global options plus one
// Command), with no I/O and no gRPC, so every command and every usage error is unit-tested.
//
// Amounts stay decimal text here: their scale is the currency's, known only after a read
// from the server (clearing/amount_text.h parses them then). Their syntax is checked here, so a
// float-looking "1e3" or "1,5" is a usage error before any RPC.
// Pure functions; value types; thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clearing/amount_text.h"  // IsDecimalSyntax, ParseU64
#include "clearing/status.h"
#include "server/cli/card_args.h"
#include "server/cli/loan_args.h"

namespace ayni::cli {

enum class Verb {
  kInit,
  kBankCreate,
  kBankList,
  kCurrencyCreate,
  kCurrencyList,
  kCircleCreate,
  kCircleAddMember,
  kMemberCreate,
  kAccountOpen,
  kAccountShow,
  kAccountList,
  kAccountFreeze,
  kAccountUnfreeze,
  kAccountClose,
  kAccountLimits,
  kIssue,
  kRedeem,
  kPay,
  kFundReserve,
  kDistribute,
  kCoverage,
  kClearingRun,
  kClearingShow,
  kClearingList,
  kAuditReserves,
  kAuditJournal,
  kKeyCreate,
  kKeyList,
  kKeyRevoke,
  kStatus,
  kCircleList,
  kAccountStatement,
  // Invoices and set-off (SetoffService).
  kInvoiceRegister,
  kInvoiceConfirm,
  kInvoiceDispute,
  kInvoiceList,
  kSetoffRun,
  kSetoffShow,
  // Microcredit (server/cli/loans_cli.cc).
  kLoanProductCreate,
  kLoanProductList,
  kLoanGroupCreate,
  kLoanDisburse,
  kLoanRepay,
  kLoanWriteOff,
  kLoanShow,
  kLoanList,
  kLoanPortfolio,
  // Cards and kiosks (server/cli/cards_cli.cc).
  kKioskRegister,
  kCardBlock,
  kCardShow,
  kCardDenyList,
  kAuditCards,
};

using RequestIdBytes = std::array<uint8_t, 16>;

// One command with its arguments. Only the fields its verb uses are set.
struct Command {
  Verb verb = Verb::kBankList;
  std::string name;  // "bank create", for messages and JSON

  std::string code;       // national code (init), bank/currency/circle code being created
  std::string bank_code;  // the bank named by the command or by --bank
  std::string currency_code;
  std::string text;       // a name (bank, circle, member) or a key label
  uint64_t id = 0;        // the account, member, circle or key the command is about
  uint64_t other_id = 0;  // payee account (pay), member (circle add-member)
  std::string amount;     // decimal text, parsed at the currency's scale when it is known
  std::optional<std::string> ceiling;  // decimal text (account limits)
  int64_t scale = 0;                   // init, circle create; 0 = server default (100)
  std::optional<int32_t> coverage_bp;
  std::optional<int32_t> fee_bp;
  bool flag = false;  // --admin, --merchant or --from-fees, by verb
  std::string memo;
  std::string actor;
  std::string reason;
  std::optional<uint64_t> cycle_number;      // clearing show N; unset = latest
  uint32_t role = 0;                         // ayni.v1.Role number (key create)
  uint32_t scope_kind = 0;                   // ayni.v1.ScopeKind number (key create)
  std::string scope_ref;                     // key create: the scope's id, or a bank code
  std::string token_file;                    // key create: write the new token here (0600)
  uint64_t member_filter = 0;                // account list --member
  bool include_revoked = false;              // key list --all
  std::optional<RequestIdBytes> request_id;  // --request-id; unset = fresh random
  // Invoices and set-off.
  std::optional<RequestIdBytes> invoice_id;  // invoice confirm|dispute; register --invoice-id
  std::optional<int64_t> day;                // register --due, setoff run --cutoff (unix days)
  std::string reference;                     // invoice register --reference
  uint32_t invoice_status = 0;               // invoice list --status (ayni.v1.InvoiceStatus)
  bool open_only = false;                    // invoice list --open
  bool dry_run = false;                      // setoff run --dry-run
  bool mutual_credit = false;                // setoff run --mutual-credit
  std::optional<RequestIdBytes> run_id;      // setoff show RUN_ID
  std::optional<uint64_t> run_number;        // setoff show NUMBER
  LoanArgs loan;                             // the `loans …` commands' own arguments
  CardArgs card;                             // the card and kiosk commands' own arguments
};

// Where the output goes and whom to talk to.
enum class OutputFormat { kTable, kJson, kCsv };

struct GlobalOptions {
  std::string server;    // HOST:PORT; --server, else AYNI_SERVER, else kDefaultServer
  std::string key_file;  // --key-file; empty = the AYNI_KEY environment variable
  // --tls-ca, else AYNI_TLS_CA: PEM root CA(s) the server's certificate must chain to.
  // Set = TLS to any host; empty = plaintext, to loopback only.
  std::string tls_ca;
  // --tls-server-name (needs TLS): the name checked in the server's certificate when it
  // differs from the host dialled; empty = that host.
  std::string tls_server_name;
  OutputFormat format = OutputFormat::kTable;
  int timeout_s = 30;  // per RPC deadline
};

inline constexpr std::string_view kDefaultServer = "127.0.0.1:7443";

struct Invocation {
  GlobalOptions global;
  Command command;
  bool help = false;  // --help / help: print the usage text, exit 0
};

// Parses argv[1..] (without the program name). `env_server` is AYNI_SERVER or empty,
// `env_tls_ca` AYNI_TLS_CA or empty (flags win over both).
// INVALID_ARGUMENT on a usage error: the message says what is wrong and ends with the
// command's usage line (or the general one).
Result<Invocation> ParseArgs(const std::vector<std::string>& args, std::string_view env_server,
                             std::string_view env_tls_ca = {});

// Every command's usage line, for `ayni --help`.
std::string UsageText();

// 32 hex digits → 16 bytes, not all zero.
std::optional<RequestIdBytes> ParseRequestIdHex(std::string_view hex);
// Exactly 2 × `size` hex digits (either case) → `out[0 … size)`; false otherwise.
bool ParseHexBytes(std::string_view hex, uint8_t* out, size_t size);
std::string HexOf(const uint8_t* data, size_t n);

}  // namespace ayni::cli
