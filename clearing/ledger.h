// The ledger state machine (SPEC §2–§4).
//
// The Ledger owns every bank, currency, circle, member and account of one deployment, and
// its loan book (loan products, solidarity groups, loans; loans.h), and is their only
// writer. Work happens in batches:
//
//   ledger.BeginBatch(now_ns);
//   OpResult r = ledger.Pay(cmd);        // any number of commands, each a linked group
//   SealedBatch b = ledger.SealBatch();  // canonical bytes + hash chain; now permanent
//   // or ledger.AbortBatch();           // every effect since BeginBatch is undone
//
// Each command is one linked group: all of its legs are posted or none, and a refused
// command leaves no trace (not even in the batch). Commands are idempotent by request id:
// an identical retry of a committed request answers kExists with the original result;
// the same id with other fields answers kExistsWithDifferentFields and names the field.
// Refused requests are not recorded, so a retry of a refused request is evaluated anew.
//
// Deterministic: the same commands in the same order give the same state and the same
// journal bytes. Not thread-safe: one writer thread owns it (the server's batching
// writer); readers must be on that thread or read copies.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "clearing/cards.h"
#include "clearing/hash.h"
#include "clearing/invoices.h"
#include "clearing/journal.h"
#include "clearing/loans.h"
#include "clearing/model.h"
#include "clearing/netting.h"
#include "clearing/outcome.h"
#include "clearing/request_table.h"

namespace ayni {

// ---- Commands ----------------------------------------------------------------------

struct InitDeploymentCmd {
  RequestId request;
  std::string national_code;  // ISO 4217, e.g. "BRL"
  int64_t scale = 100;
};

struct CreateBankCmd {
  RequestId request;
  std::string code;
  std::string name;
};

// A guaranteed currency issued by `bank`; its scale is the national currency's.
struct CreateCurrencyCmd {
  RequestId request;
  BankId bank;
  std::string code;
  int32_t coverage_min_bp = 10000;
  int32_t redemption_fee_bp = 200;
  Amount default_ceiling = Amount::Max();
};

// A circle hosted by `bank`, together with its mutual-credit currency.
struct CreateCircleCmd {
  RequestId request;
  BankId bank;
  std::string code;  // the circle's code, also its currency's code
  std::string name;
  int64_t scale = 100;
  Amount default_credit_limit;
  Amount default_ceiling = Amount::Max();
};

struct CreateMemberCmd {
  RequestId request;
  BankId bank;
  std::string name;
};

struct AddCircleMemberCmd {
  RequestId request;
  CircleId circle;
  MemberId member;
  bool admin = false;
};

// A member or merchant account: guaranteed currency of the member's bank, or the
// mutual-credit currency of a circle the member belongs to.
struct OpenAccountCmd {
  RequestId request;
  MemberId owner;
  CurrencyId currency;
  AccountKind kind = AccountKind::kMember;
};

struct PayCmd {
  RequestId request;
  AccountId from, to;
  Amount amount;
  std::string memo;
};

// Issue (deposit), Redeem and Distribute act on one member account.
struct AccountAmountCmd {
  RequestId request;
  AccountId account;
  Amount amount;
  std::string memo;
};

enum class FundSource : uint8_t { kVault = 0, kFees = 1 };

struct FundReserveCmd {
  RequestId request;
  BankId bank;
  Amount amount;
  FundSource source = FundSource::kVault;
  std::string memo;
};

struct SetAccountStatusCmd {
  RequestId request;
  AccountId account;
  AccountStatus status = AccountStatus::kActive;
  std::string actor;
  std::string reason;
};

// Changes credit limit and ceiling together; both are logged with who and why.
struct SetAccountLimitsCmd {
  RequestId request;
  AccountId account;
  Amount credit_limit;
  Amount ceiling = Amount::Max();
  std::string actor;
  std::string reason;
};

struct RunCycleCmd {
  RequestId request;  // the cycle id
};

// ---- Microcredit commands (loans.h has the schedule, arrears and allocation rules) ----

// A loan product of `bank`, lent in `currency`: the national currency (production loans,
// paid out in cash) or a guaranteed currency `bank` issues (consumption credit, minted).
struct CreateLoanProductCmd {
  RequestId request;
  BankId bank;
  std::string name;
  CurrencyId currency;
  Amount max_principal;
  int32_t monthly_rate_bp = 0;  // ≤ kLoanMonthlyRateBpMax
  int32_t instalments = 1;      // 1 … kLoanInstalmentsMax
  int32_t period_days = 30;     // kLoanPeriodDaysMin … kLoanPeriodDaysMax
  int32_t grace_days = 0;       // 0 … kLoanGraceDaysMax
};

// A solidarity group of `bank`: 3–10 of its members, of whom at least two are jointly
// liable. Member order does not matter (stored sorted; a retry in another order is the
// same request).
struct CreateSolidarityGroupCmd {
  RequestId request;
  BankId bank;
  std::string name;
  std::vector<MemberId> members;
  std::vector<MemberId> liable;  // a subset of members
};

// Disburses a loan to a member or to a group (exactly one is set). National-money
// products post RESERVE → LOANS and take no account; social-currency products mint
// ISSUANCE → `account`, an account of the borrower (or of a group member) in the product's
// currency. Refused when the borrower, any group member, or any group a member belongs to
// has a loan past due or written off.
struct DisburseLoanCmd {
  RequestId request;
  LoanProductId product;
  MemberId member;
  SolidarityGroupId group;
  Amount principal;
  AccountId account;
  std::string memo;
};

// Repays `amount` of a loan in its own currency: interest payable first, then principal
// (loans.h). National-money loans take no account (cash at the teller); social-currency
// loans are paid from `account`, the borrower's or a group member's.
struct RepayLoanCmd {
  RequestId request;
  LoanId loan;
  Amount amount;
  AccountId account;
  std::string memo;
};

// An admin writes off what remains of a loan's principal: LOANS → WRITE_OFF for
// national-money loans; the loan book only for social-currency ones.
struct WriteOffLoanCmd {
  RequestId request;
  LoanId loan;
  std::string actor;
  std::string reason;
};

// ---- Results -----------------------------------------------------------------------

struct OpResult {
  Outcome outcome = Outcome::kOk;
  // kExistsWithDifferentFields: the first differing field; other refusals: a short hint
  // (e.g. which account kind broke its sign). Static strings only.
  const char* detail = "";
  uint64_t id = 0;            // created object's id (bank, currency, circle, member, account,
                              // cycle number)
  uint64_t timestamp_ns = 0;  // when committed (original time for kExists)
  uint32_t legs = 0;          // transfers posted; leg ids are DeriveTransferId(request, i)
  bool ok() const { return IsCommitted(outcome); }
};

struct CycleReport {
  RequestId request;
  uint64_t number = 0;  // 1, 2, … in commit order
  uint64_t timestamp_ns = 0;
  std::vector<Obligation> obligations;  // gross, by (debtor, creditor)
  NettingPlan plan;
  std::vector<BankId> short_debtors;  // when refused with kSettlementShort
};

struct SealedBatch {
  uint64_t sequence = 0;
  uint64_t timestamp_ns = 0;
  Hash256 prev_hash{};
  Hash256 hash{};               // BLAKE2b-256(prev_hash ‖ bytes)
  std::vector<uint8_t> bytes;   // canonical encoding (journal.h)
  std::vector<Transfer> transfers;
  std::vector<AccountId> touched_accounts;  // each once, first-touch order; includes opened
};

// Coverage of one bank (invariant 3), signed balances.
struct CoverageRow {
  CurrencyId currency;
  Amount supply;
  int32_t coverage_min_bp = 0;
};
struct Coverage {
  BankId bank;
  Amount reserve, due_from, due_to;  // due_to ≤ 0
  std::vector<CoverageRow> currencies;
  Int128 assets_scaled = 0;    // (reserve + due_from + due_to) × 10000
  Int128 required_scaled = 0;  // Σ supply × coverage_min_bp
  bool covered() const { return assets_scaled >= required_scaled; }
  // Largest extra supply at 100% coverage the bank could mint now (≥ 0), in minor units:
  // floor((assets_scaled − required_scaled) / 10000).
  Amount ExcessAtPar() const;
};

// ---- The ledger ----------------------------------------------------------------------

class LedgerTestAccess;
class JournalReader;

class Ledger {
 public:
  Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Batches. Timestamps are made strictly increasing (max(now, last + 1)).
  void BeginBatch(uint64_t now_ns);
  bool batch_open() const { return batch_open_; }
  size_t batch_transfer_count() const { return batch_transfers_.size(); }
  SealedBatch SealBatch();  // PrepareBatch() then CommitBatch()
  void AbortBatch();
  // Two-phase sealing for a writer that must make the batch durable first: PrepareBatch
  // computes the batch's bytes and hash and closes it to further commands; then either
  // CommitBatch (the store committed: the batch becomes permanent, the head advances) or
  // AbortBatch (the store did not: every effect of the batch is undone).
  SealedBatch PrepareBatch();
  void CommitBatch();
  bool batch_prepared() const { return batch_prepared_; }

  // Rebuilds the whole ledger — banks, currencies, circles, members, accounts, balances,
  // idempotency records, cycle reports, head — from the journal alone. Only on a fresh
  // ledger. DATA_LOSS when the chain or the bytes do not verify; the ledger may then hold
  // part of the journal and must be discarded.
  Status Restore(std::span<const StoredBatch> batches);

  // Commands: each needs an open batch.
  OpResult InitDeployment(const InitDeploymentCmd& c);
  OpResult CreateBank(const CreateBankCmd& c);
  OpResult CreateCurrency(const CreateCurrencyCmd& c);
  OpResult CreateCircle(const CreateCircleCmd& c);
  OpResult CreateMember(const CreateMemberCmd& c);
  OpResult AddCircleMember(const AddCircleMemberCmd& c);
  OpResult OpenAccount(const OpenAccountCmd& c);
  OpResult Pay(const PayCmd& c);
  OpResult Issue(const AccountAmountCmd& c);
  OpResult Redeem(const AccountAmountCmd& c);
  OpResult Distribute(const AccountAmountCmd& c);
  OpResult FundReserve(const FundReserveCmd& c);
  OpResult SetAccountStatus(const SetAccountStatusCmd& c);
  OpResult SetAccountLimits(const SetAccountLimitsCmd& c);
  // Refused as a whole with kSettlementShort when a net debtor cannot pay; the report
  // (out, optional) then lists the short debtors and the plan that could not be posted.
  OpResult RunCycle(const RunCycleCmd& c, CycleReport* report = nullptr);
  // Microcredit. Results: id = the product, group or loan.
  OpResult CreateLoanProduct(const CreateLoanProductCmd& c);
  OpResult CreateSolidarityGroup(const CreateSolidarityGroupCmd& c);
  OpResult DisburseLoan(const DisburseLoanCmd& c);
  OpResult RepayLoan(const RepayLoanCmd& c);
  OpResult WriteOffLoan(const WriteOffLoanCmd& c);
  // The invoice book and set-off runs (invoices.h; bodies in invoices.cc).
  OpResult RegisterInvoice(const RegisterInvoiceCmd& c);
  OpResult ConfirmInvoice(const ConfirmInvoiceCmd& c);
  OpResult DisputeInvoice(const DisputeInvoiceCmd& c);
  // A committed run (result id = run number); an identical retry answers kExists with the
  // original run in `report` (optional).
  OpResult RunSetoff(const RunSetoffCmd& c, SetoffRun* report = nullptr);
  // The same run computed on the current state, written nowhere; needs no batch. The
  // request id is not looked up (a dry run is not a request).
  OpResult DryRunSetoff(const RunSetoffCmd& c, SetoffRun* report) const;
  // Cards and kiosks (cards.h; bodies in cards.cc). Results: id = the kiosk id, the
  // card's account, the load's posting count; legs as usual.
  OpResult RegisterKiosk(const RegisterKioskCmd& c);
  OpResult RegisterCard(const RegisterCardCmd& c);
  OpResult AuthorizeCardLoad(const AuthorizeCardLoadCmd& c);
  OpResult BlockCard(const BlockCardCmd& c);
  // Refused as a whole only for an unknown kiosk or more than kOfflineBatchMax receipts;
  // otherwise kOk with one result per receipt in `report` (required), and every posting
  // in one linked group.
  OpResult SettleOffline(const SettleOfflineCmd& c, SettleOfflineReport* report);

  // A hint, no effect on state: a writer that holds a queue of commands calls this a few
  // commands ahead so that the idempotency lookup does not wait on memory.
  // Always inlined, as RequestTable::Prefetch is (a call to it would be deleted).
  [[gnu::always_inline]] void PrefetchRequest(const RequestId& id) const {
    requests_.Prefetch(id);
  }

  // Reads. Pointers stay valid until the next command.
  bool deployed() const { return national_.valid(); }
  CurrencyId national() const { return national_; }
  const Bank* FindBank(BankId id) const;
  const Bank* FindBankByCode(std::string_view code) const;
  const Currency* FindCurrency(CurrencyId id) const;
  const Currency* FindCurrencyByCode(std::string_view code) const;
  const Circle* FindCircle(CircleId id) const;
  const Member* FindMember(MemberId id) const;
  const Account* FindAccount(AccountId id) const;
  const LoanProduct* FindLoanProduct(LoanProductId id) const;
  const SolidarityGroup* FindGroup(SolidarityGroupId id) const;
  const Loan* FindLoan(LoanId id) const;
  std::span<const LoanProduct> loan_products() const { return products_; }
  std::span<const SolidarityGroup> groups() const { return groups_; }
  std::span<const Loan> loans() const { return loans_; }
  size_t bank_count() const { return banks_.size(); }
  size_t currency_count() const { return currencies_.size(); }
  size_t account_count() const { return accounts_.size(); }
  size_t member_count() const { return members_.size(); }
  size_t circle_count() const { return circles_.size(); }
  size_t request_count() const { return requests_.size(); }
  std::span<const Account> accounts() const { return accounts_; }
  std::span<const Bank> banks() const { return banks_; }
  std::span<const Currency> currencies() const { return currencies_; }
  std::span<const Circle> circles() const { return circles_; }
  const std::vector<CycleReport>& cycles() const { return cycles_; }
  const InvoiceRecord* FindInvoice(const InvoiceId& id) const;
  std::span<const InvoiceRecord> invoices() const { return invoices_.invoices; }
  const std::vector<SetoffRun>& setoff_runs() const { return invoices_.runs; }
  const SetoffRun* FindSetoffRun(const RequestId& run) const;  // committed runs only
  const KioskRecord* FindKiosk(KioskId id) const;
  const KioskRecord* FindKioskByTerminal(const TerminalId& terminal) const;
  const CardRecord* FindCard(const CardId& id) const;
  const CardLoadRecord* FindCardLoad(const LoadId& id) const;
  std::span<const KioskRecord> kiosks() const { return cards_.kiosks; }
  std::span<const CardRecord> cards() const { return cards_.cards; }  // in registration order
  // In authorisation order.
  std::span<const CardLoadRecord> card_loads() const { return cards_.loads; }
  // Blocked cards, in blocking order.
  std::span<const CardId> deny_list() const { return cards_.deny; }
  Amount Supply(CurrencyId guaranteed) const;  // −balance(ISSUANCE)
  Coverage CoverageOf(BankId bank) const;
  bool IsCircleMember(CircleId circle, MemberId member) const;
  uint64_t batch_sequence() const { return sequence_; }  // last sealed
  const Hash256& head() const { return head_; }
  uint64_t head_timestamp_ns() const { return last_timestamp_ns_; }  // of the last sealed batch
  // The open inter-bank obligations (DUE_FROM balances), as the next cycle would see them.
  std::vector<Obligation> OpenObligations() const;

 private:
  friend class LedgerTestAccess;

  enum class Kind : uint8_t {
    kInitDeployment = 1,
    kCreateBank,
    kCreateCurrency,
    kCreateCircle,
    kCreateMember,
    kAddCircleMember,
    kOpenAccount,
    kPay,
    kIssue,
    kRedeem,
    kDistribute,
    kFundReserve,
    kSetAccountStatus,
    kSetAccountLimits,
    kRunCycle,
    kCreateLoanProduct,
    kCreateSolidarityGroup,
    kDisburseLoan,
    kRepayLoan,
    kWriteOffLoan,
    // Invoices (invoices.cc); numbered apart so other commands can be added above.
    kRegisterInvoice = 40,
    kConfirmInvoice = 41,
    kDisputeInvoice = 42,
    kRunSetoff = 43,
    // Cards and kiosks (cards.cc).
    kRegisterKiosk = 50,
    kRegisterCard = 51,
    kAuthorizeCardLoad = 52,
    kBlockCard = 53,
  };
  static constexpr int kFingerprintFields = static_cast<int>(journal::kRequestFields);
  // What an identical retry must match, and what it gets back.
  struct RequestRecord {
    Kind kind;
    uint32_t legs;
    uint64_t fields[kFingerprintFields];
    uint64_t result_id;
    uint64_t timestamp_ns;
  };
  struct Fingerprint {
    Kind kind;
    uint64_t fields[kFingerprintFields];
    const char* const* names;  // field names for kExistsWithDifferentFields
    // Fields that pack two 32-bit values (high, low) are named per half: names[i] is
    // unused for them and halves[2i], halves[2i+1] name the high and low halves.
    uint32_t packed_mask = 0;
    const char* const* halves = nullptr;
  };
  struct Leg {
    AccountId debit, credit;
    Amount amount;
    TransferCode code;
  };
  enum class UndoKind : uint8_t {
    kPosting,
    kAccountMeta,
    kRequest,
    kDeployment,
    kBank,
    kCurrency,
    kCircle,
    kMember,
    kAccount,
    kCircleMember,
    kCycle,
    kLoanProduct,
    kGroup,
    kLoan,
    kLoanState,
    kInvoice,
    kInvoiceMeta,
    kSetoffRun,  // invoices.cc: RollbackInvoice
    kKiosk,      // cards.cc: RollbackCard
    kKioskStats,
    kCard,
    kCardSaved,
    kCardLoad,
    kCardLoadState,
    kCardChain,
    kDeny,
  };
  struct Undo {
    explicit Undo(UndoKind k) : kind(k) {}
    UndoKind kind;
    AccountStatus old_status = AccountStatus::kActive;
    uint64_t a = 0, b = 0;
    Amount old_limit, old_ceiling;
    RequestId request;
  };
  static Undo MetaUndo(const Account& a);
  struct Marks {
    size_t undo, transfers, bytes, events;
  };

  // Idempotency: nullopt when the request is new; otherwise the answer to return.
  std::optional<OpResult> CheckRequest(const RequestId& id, const Fingerprint& fp) const;
  void RecordRequest(const RequestId& id, const Fingerprint& fp, uint64_t result_id, uint32_t legs);
  Outcome Precheck(const RequestId& id) const;

  // Restore's event decoder (restore.cc); false on bytes that do not decode.
  bool RestoreBatch(std::span<const uint8_t> bytes, uint64_t timestamp_ns);
  void RestoreAccount(const Account& a);
  bool RestoreInvoiceEvent(uint8_t tag, JournalReader& rd, uint64_t timestamp_ns);
  void RollbackInvoice(const Undo& u);
  // Cards (cards.cc).
  bool RestoreCardEvent(uint8_t tag, JournalReader& rd, uint64_t timestamp_ns);
  void RollbackCard(const Undo& u);
  void SaveCard(uint32_t index);  // pushes the card's state for undo
  void SetLoadState(uint32_t index, CardLoadState s);
  void BlockCardAt(uint32_t index, CardBlockReason reason, std::string_view detail);
  void AddEvidence(uint32_t index, const CardRecordBytes& bytes);
  // Returns every pending load of a card to its account (to SUSPENSE when the account
  // cannot take it); legs numbered from *next_leg.
  Outcome ReturnLoad(const RequestId& request, uint32_t load, uint32_t* next_leg,
                     std::vector<LoadId>* returned, const char** detail);
  // Posts legs numbered from *next_leg as one unit, refusing (and rolling back) what would
  // leave one of `banks` less covered and under-covered.
  Outcome PostNumbered(const RequestId& request, uint32_t* next_leg, std::span<const Leg> legs,
                       std::string_view memo, std::span<const BankId> banks, const char** detail);
  // The legs that move `amount` from `from` (a member or system account of currency cf)
  // to `to` (of currency ct): one leg within a currency; across guaranteed currencies a
  // burn at cf's issuer, a mint at ct's and, between banks, the DUE_TO → DUE_FROM leg.
  // Returns the leg count (≤ 3) and the banks whose coverage moves.
  size_t BridgeLegs(const Currency& cf, const Currency& ct, AccountId from, AccountId to,
                    Amount amount, TransferCode code, Leg* legs, BankId* banks,
                    size_t* nb) const;
  Outcome PlanSetoff(const RunSetoffCmd& c, SetoffRun* run, std::vector<Leg>* legs,
                     const char** detail) const;

  Marks Mark() const;
  void RollbackTo(const Marks& m);
  // Posts a linked group; on any refusal rolls back to the state before the group.
  Outcome PostGroup(const RequestId& request, std::span<const Leg> legs, std::string_view memo,
                    const char** detail);
  Outcome PostLeg(const RequestId& request, uint32_t index, const Leg& leg,
                  std::string_view memo, const char** detail);
  Outcome CheckBounds(const Account& a, Amount new_balance, bool debit_side,
                      const char** detail) const;
  void ApplyDelta(Account& a, Amount delta_balance, bool debit, Amount amount);
  Int128 Margin(BankId bank) const;
  AccountId NewAccount(BankId bank, CurrencyId currency, AccountKind kind, MemberId owner,
                       BankId counterparty, Amount credit_limit, Amount ceiling);
  void Touch(AccountId id);
  OpResult Finish(const RequestId& id, const Fingerprint& fp, uint64_t result_id, uint32_t legs);
  OpResult Refuse(Outcome o, const char* detail = "");
  // Posts legs as one group and checks coverage of `banks` (before vs after); on success
  // records the request. The common tail of every money operation.
  OpResult CommitGroup(const RequestId& id, const Fingerprint& fp, std::span<const Leg> legs,
                       std::string_view memo, std::span<const BankId> banks);
  // Posts legs as one group and refuses (rolling back) what would leave one of `banks`
  // less covered and under-covered. CommitGroup is this plus Finish.
  Outcome PostCovered(const RequestId& id, std::span<const Leg> legs, std::string_view memo,
                      std::span<const BankId> banks, const char** detail);
  // Microcredit helpers (ledger.cc).
  Outcome CheckBorrowerAccount(const LoanProduct& p, std::span<const MemberId> borrowers,
                               AccountId account, const char** detail) const;
  bool AnyBlocks(std::span<const MemberId> members) const;
  void IndexLoan(const Loan& loan);
  void UnindexLoan(const Loan& loan);
  std::vector<MemberId> Borrowers(MemberId member, SolidarityGroupId group) const;
  // Validates a command on one member account in a guaranteed currency.
  Outcome CheckMemberGuaranteed(const AccountAmountCmd& c, const char** detail) const;
  void PushEvent() { ++batch_events_; }

  Account& acct(AccountId id) { return accounts_[id.value() - 1]; }
  const Account& acct(AccountId id) const { return accounts_[id.value() - 1]; }

  // State.
  CurrencyId national_;
  std::vector<Bank> banks_;
  std::vector<Currency> currencies_;
  std::vector<Circle> circles_;
  std::vector<Member> members_;
  std::vector<Account> accounts_;
  std::vector<Int128> bank_due_net_;  // Σ DUE_FROM + Σ DUE_TO per bank (index id − 1)
  std::unordered_map<std::string, BankId> bank_codes_;
  std::unordered_map<std::string, CurrencyId> currency_codes_;
  RequestTable<RequestRecord> requests_;
  std::vector<CycleReport> cycles_;
  std::vector<LoanProduct> products_;
  std::vector<SolidarityGroup> groups_;
  std::vector<Loan> loans_;
  // Per member: the loans it is liable for (its own and its groups'), in disbursement
  // order; the arrears check of a new loan reads only these.
  std::unordered_map<MemberId, std::vector<LoanId>> member_loans_;
  InvoiceBook invoices_;
  CardBook cards_;
  uint64_t sequence_ = 0;
  uint64_t last_timestamp_ns_ = 0;
  Hash256 head_{};

  // The open batch.
  bool batch_open_ = false;
  bool batch_prepared_ = false;
  Hash256 prepared_hash_{};
  uint64_t batch_timestamp_ns_ = 0;
  uint32_t batch_events_ = 0;
  std::vector<Undo> undo_;
  std::vector<Transfer> batch_transfers_;
  std::vector<uint8_t> batch_bytes_;  // encoded events (journal.h)
  std::vector<AccountId> touched_;
  std::vector<uint64_t> touched_in_;  // per account: sequence of the batch that touched it
};

}  // namespace ayni
