// The seeded randomized ledger test (STYLE "Tests"; SPEC §2 invariants, §3 operations,
// §4 clearing).
//
// Drives one Ledger through ≥ 100,000 random commands over four banks (one guaranteed
// currency each, some with fractional coverage and different redemption fees) and two
// mutual-credit circles, in batches of 1..64 commands, ≈5% of them aborted. Microcredit
// runs alongside: loan products in national money and in each bank's currency, loans to
// members and to solidarity groups, repayments, write-offs; the clock jumps days ahead
// now and then so that instalments fall due and borrowers fall into arrears.
//
// Three views of the state are kept and compared after every batch:
//   * the Ledger itself;
//   * a predictive model (Model) that knows the rules of SPEC §2–§4 and says, before a
//     command runs, what its outcome and its legs must be; every command's outcome is
//     checked against it, and the legs of each sealed batch against its predicted legs;
//   * a shadow of balances and posted totals, updated only from the transfers of sealed
//     batches, which both the ledger and the model must match.
// After every sealed batch CheckInvariants must find nothing; every 1,000 batches and at
// the end CheckJournal replays the whole journal. After an abort the ledger must be exactly
// as it was before BeginBatch.
//
// The seed comes from AYNI_SEED when set, random otherwise; it is printed at the start and
// in every failure: `AYNI_SEED=<n> ctest -R Randomized -V` replays a run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "clearing/hash.h"
#include "clearing/int128.h"
#include "clearing/invariants.h"
#include "clearing/journal.h"
#include "clearing/ledger.h"
#include "clearing/limits.h"
#include "clearing/outcome.h"
#include "tests/clearing/ledger_compare.h"

namespace ayni {
namespace {

// At least 100,000 operations per run (the suite's floor); the default runs more since
// it is cheap (≈1 s, ≈15 s under ASan). AYNI_RANDOMIZED_OPS=<n> runs longer soaks.
constexpr uint64_t kOpsFloor = 100'000;
constexpr uint64_t kOpsDefault = 250'000;
constexpr uint64_t kBatchOpsMax = 64;
constexpr uint64_t kAbortPercent = 5;
// SPEC §2 invariant 7: replay the whole journal every 1,000 batches and at the end.
constexpr uint64_t kJournalCheckEveryBatches = 1000;
// A clearing cycle roughly every 500 operations (400..600, at random).
constexpr uint64_t kCycleEveryOpsMin = 400;
constexpr uint64_t kCycleEveryOpsMax = 600;
constexpr int kMembersPerBank = 20;
constexpr int kCircleMembers = 12;
// Recently refused / aborted requests kept for retries (they must be evaluated anew).
constexpr size_t kRetryRingMax = 64;
// Microcredit: a loan-book command about every 25 operations; at most this many products.
constexpr int64_t kLoanOpsPerMille = 40;
constexpr size_t kProductsMax = 12;
// The caller's clock jumps 1..10 days ahead in this share of batches (per mille).
constexpr uint64_t kDayJumpPerMille = 12;

struct BankSpec {
  const char* code;
  const char* currency;
  int32_t coverage_min_bp;
  int32_t redemption_fee_bp;
  int64_t default_ceiling;
};
constexpr BankSpec kBankSpecs[] = {
    {"PALMAS", "PALMA", 10000, 200, INT64_MAX},
    {"SOL", "SOL", 5000, 150, INT64_MAX},
    // No fee (redemptions post two legs) and a ceiling members reach.
    {"LUA", "LUA", 8000, 0, 3'000'000},
    {"MAR", "MARE", 2500, 75, INT64_MAX},
};
constexpr int kBanks = static_cast<int>(std::size(kBankSpecs));

struct CircleSpec {
  int bank;  // index into kBankSpecs
  const char* code;
  int64_t credit_limit;
};
constexpr CircleSpec kCircleSpecs[] = {{0, "FEIRA", 5'000}, {1, "TROCA", 200'000}};
constexpr int kCircles = static_cast<int>(std::size(kCircleSpecs));

// ---- Commands as data: what was sent, so that it can be retried or altered ------------

enum class Op : uint8_t {
  kPay,
  kIssue,
  kRedeem,
  kDistribute,
  kFund,
  kStatus,
  kLimits,
  kOpen,
  kCycle,
  kProduct,
  kDisburse,
  kRepay,
  kWriteOff
};
constexpr int kOpKinds = 13;
const char* OpName(Op op) {
  static constexpr const char* kNames[] = {
      "pay",  "issue", "redeem",  "distribute", "fund_reserve", "status",   "limits",
      "open", "cycle", "product", "disburse",   "repay",        "write_off"};
  return kNames[static_cast<int>(op)];
}

struct Cmd {
  Op op = Op::kPay;
  RequestId request;
  AccountId from, to, account;
  BankId bank;
  MemberId owner;
  CurrencyId currency;
  AccountKind account_kind = AccountKind::kMember;
  int64_t amount = 0;
  std::string memo;
  FundSource source = FundSource::kVault;
  AccountStatus status = AccountStatus::kActive;
  std::string actor = "teller", reason = "randomized test";
  int64_t credit_limit = 0;
  int64_t ceiling = INT64_MAX;
  bool cross_bank = false;  // for the summary only
  // Microcredit: `amount` is the product's maximum principal, the loan's principal or the
  // repayment; `owner` the borrowing member; `bank`, `currency` the product's.
  LoanProductId product;
  LoanId loan;
  SolidarityGroupId group;
  std::string name = "product";
  int32_t rate_bp = 0, instalments = 1, period_days = 30, grace_days = 0;
};

std::string Describe(const Cmd& c) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%s request=%s from=%" PRIu64 " to=%" PRIu64 " account=%" PRIu64 " bank=%" PRIu64
                " owner=%" PRIu64 " currency=%" PRIu64 " kind=%d amount=%" PRId64
                " source=%d status=%d credit_limit=%" PRId64 " ceiling=%" PRId64 " memo='%s'",
                OpName(c.op), c.request.ToHex().c_str(), c.from.value(), c.to.value(),
                c.account.value(), c.bank.value(), c.owner.value(), c.currency.value(),
                static_cast<int>(c.account_kind), c.amount, static_cast<int>(c.source),
                static_cast<int>(c.status), c.credit_limit, c.ceiling, c.memo.c_str());
  std::string s = buf;
  if (c.op >= Op::kProduct) {
    s += " product=" + std::to_string(c.product.value()) +
         " loan=" + std::to_string(c.loan.value()) + " group=" + std::to_string(c.group.value()) +
         " terms=" + std::to_string(c.rate_bp) + "bp/" + std::to_string(c.instalments) + "x" +
         std::to_string(c.period_days) + "d+" + std::to_string(c.grace_days) + "d";
  }
  return s;
}

// The fields each command's idempotency is keyed on (SPEC §2 invariant 5), in the order
// the ledger documents them; nullptr when a retry is identical.
const char* FirstDifferentField(const Cmd& a, const Cmd& b) {
  if (a.op != b.op) return "operation";
  switch (a.op) {
    case Op::kPay:
      if (a.from != b.from) return "from";
      if (a.to != b.to) return "to";
      if (a.amount != b.amount) return "amount";
      if (a.memo != b.memo) return "memo";
      return nullptr;
    case Op::kIssue:
    case Op::kRedeem:
    case Op::kDistribute:
      if (a.account != b.account) return "account";
      if (a.amount != b.amount) return "amount";
      if (a.memo != b.memo) return "memo";
      return nullptr;
    case Op::kFund:
      if (a.bank != b.bank) return "bank";
      if (a.amount != b.amount) return "amount";
      if (a.source != b.source) return "source";
      if (a.memo != b.memo) return "memo";
      return nullptr;
    case Op::kStatus:
      if (a.account != b.account) return "account";
      if (a.status != b.status) return "status";
      if (a.actor != b.actor) return "actor";
      if (a.reason != b.reason) return "reason";
      return nullptr;
    case Op::kLimits:
      if (a.account != b.account) return "account";
      if (a.credit_limit != b.credit_limit) return "credit_limit";
      if (a.ceiling != b.ceiling) return "ceiling";
      if (a.actor != b.actor) return "actor";
      if (a.reason != b.reason) return "reason";
      return nullptr;
    case Op::kOpen:
      if (a.owner != b.owner) return "owner";
      if (a.currency != b.currency) return "currency";
      if (a.account_kind != b.account_kind) return "kind";
      return nullptr;
    case Op::kCycle:
      return nullptr;
    case Op::kProduct:
      if (a.bank != b.bank) return "bank";
      if (a.name != b.name) return "name";
      if (a.currency != b.currency) return "currency";
      if (a.amount != b.amount) return "max_principal";
      if (a.rate_bp != b.rate_bp) return "monthly_rate_bp";
      if (a.instalments != b.instalments) return "instalments";
      if (a.period_days != b.period_days) return "period_days";
      if (a.grace_days != b.grace_days) return "grace_days";
      return nullptr;
    case Op::kDisburse:
      if (a.product != b.product) return "product";
      if (a.owner != b.owner) return "member";
      if (a.group != b.group) return "group";
      if (a.amount != b.amount) return "principal";
      if (a.account != b.account) return "account";
      if (a.memo != b.memo) return "memo";
      return nullptr;
    case Op::kRepay:
      if (a.loan != b.loan) return "loan";
      if (a.amount != b.amount) return "amount";
      if (a.account != b.account) return "account";
      if (a.memo != b.memo) return "memo";
      return nullptr;
    case Op::kWriteOff:
      if (a.loan != b.loan) return "loan";
      if (a.actor != b.actor) return "actor";
      if (a.reason != b.reason) return "reason";
      return nullptr;
  }
  return nullptr;
}

// ---- The predictive model ----------------------------------------------------------------

struct MAccount {
  AccountId id;
  BankId bank;
  CurrencyId currency;
  AccountKind kind = AccountKind::kMember;
  MemberId owner;
  AccountStatus status = AccountStatus::kActive;
  int64_t credit_limit = 0;
  int64_t ceiling = INT64_MAX;
  int64_t balance = 0;
};

struct MCurrency {
  CurrencyId id;
  CurrencyKind kind = CurrencyKind::kNational;
  BankId issuer;
  CircleId circle;
  AccountId issuance;
  int64_t default_limit = 0;
  int64_t default_ceiling = INT64_MAX;
};

struct MBank {
  BankId id;
  CurrencyId currency;
  AccountId vault, reserve, fees, loans, write_off;
  std::vector<AccountId> due_from, due_to;  // by counterparty id
  int32_t coverage_min_bp = 10000;
  int32_t fee_bp = 0;
};

struct MCircle {
  CircleId id;
  BankId bank;
  CurrencyId currency;
  std::vector<MemberId> members;  // sorted
};

// The loan book as the model sees it; its schedule arithmetic is written out here again
// (docs/loans.md), sharing no code with clearing/loans.cc.
struct MProduct {
  LoanProductId id;
  BankId bank;
  CurrencyId currency;
  int64_t max = 0;
  int32_t rate_bp = 0, instalments = 1, period_days = 30, grace_days = 0;
};

struct MGroup {
  SolidarityGroupId id;
  BankId bank;
  std::vector<MemberId> members;  // sorted
};

struct MInstalment {
  uint64_t due_ns;
  int64_t principal, interest;
};

struct MLoan {
  LoanId id;
  LoanProductId product;
  BankId bank;
  CurrencyId currency;
  std::vector<MemberId> borrowers;  // the member, or the group's members
  MemberId member;
  SolidarityGroupId group;
  uint64_t disbursed_ns = 0;
  int64_t principal = 0, repaid = 0, interest_paid = 0, written_off = 0;
  LoanStatus status = LoanStatus::kActive;
  std::vector<MInstalment> schedule;
  size_t repayments = 0;
  int64_t outstanding() const { return principal - repaid - written_off; }
};

struct MLeg {
  AccountId debit, credit;
  int64_t amount;
  TransferCode code;
};

// The part of the model that commands change; copied at BeginBatch, restored on abort.
struct State {
  std::vector<MAccount> accounts;             // index = id − 1
  std::vector<std::vector<AccountId>> gpool;  // guaranteed member accounts, by bank index
  std::vector<std::vector<AccountId>> mpool;  // mutual-credit accounts, by circle index
  uint64_t cycles = 0;
};

struct Committed {
  Cmd cmd;
  uint64_t result_id = 0;
  uint32_t legs = 0;
  uint64_t timestamp_ns = 0;
};

struct Prediction {
  Outcome outcome = Outcome::kOk;
  const char* field = nullptr;  // kExistsWithDifferentFields: the field named
  std::vector<MLeg> legs;
  uint64_t result_id = 0;
  uint64_t timestamp_ns = 0;  // kExists: the original commit time
  uint32_t legs_count = 0;    // kExists: the original leg count
};

struct ExpectedTransfer {
  RequestId request;
  uint32_t leg;
  MLeg l;
  const std::string* memo;
};

struct ShadowBalance {
  int64_t balance = 0, debits = 0, credits = 0;
};

// A portable uniform integer in [lo, hi] (std distributions differ between libraries, and
// a seed must replay everywhere).
class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  uint64_t Next() { return g_(); }
  int64_t Uniform(int64_t lo, int64_t hi) {
    if (hi <= lo) return lo;
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(g_() % span);
  }
  bool Percent(uint64_t p) { return g_() % 100 < p; }
  bool PerMille(uint64_t p) { return g_() % 1000 < p; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Uniform(0, static_cast<int64_t>(v.size()) - 1))];
  }

 private:
  std::mt19937_64 g_;
};

uint64_t SeedFromEnv() {
  if (const char* s = std::getenv("AYNI_SEED"); s != nullptr && *s != '\0') {
    return std::strtoull(s, nullptr, 0);
  }
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

uint64_t OpsFromEnv() {
  if (const char* s = std::getenv("AYNI_RANDOMIZED_OPS"); s != nullptr && *s != '\0') {
    return std::max<uint64_t>(kOpsFloor, std::strtoull(s, nullptr, 0));
  }
  return kOpsDefault;
}

class RandomizedRun {
 public:
  explicit RandomizedRun(uint64_t seed) : seed_(seed), rng_(seed) {}
  void Run();

 private:
  // Failure reporting: the first failure stops the run; every message carries the seed.
  void Fail(const std::string& what);
  bool failed() const { return failed_; }

  // Set-up (one sealed batch) and the model built from it.
  void Setup();
  void Fund();

  // One batch and one command.
  void BeginModelBatch(uint64_t ts);
  void RunBatch();
  void RunCommand(const Cmd& c);
  void RunCycle(const Cmd& c);
  OpResult Execute(const Cmd& c, CycleReport* report);
  void AfterSeal(const SealedBatch& sb);
  void AfterAbort();
  void CompareWithShadow(const char* when);
  void CheckJournalNow();

  // Prediction: outcome and legs; applies the legs to state_ when the outcome is kOk.
  Prediction Predict(const Cmd& c);
  Prediction PredictPay(const Cmd& c);
  Prediction PredictMemberAmount(const Cmd& c);
  Prediction PredictFund(const Cmd& c);
  Prediction PredictStatus(const Cmd& c);
  Prediction PredictLimits(const Cmd& c);
  Prediction PredictOpen(const Cmd& c);
  Prediction PredictProduct(const Cmd& c);
  Prediction PredictDisburse(const Cmd& c);
  Prediction PredictRepay(const Cmd& c);
  Prediction PredictWriteOff(const Cmd& c);
  Outcome LoanAccount(const MProduct& p, const std::vector<MemberId>& borrowers,
                      AccountId account) const;
  bool Blocked(const std::vector<MemberId>& members) const;
  MLoan& TouchLoan(size_t index);
  void CompareLoans();
  Outcome Post(const std::vector<MLeg>& legs, const std::vector<BankId>& banks);
  Outcome CheckBounds(const MAccount& a, int64_t nb) const;
  Int128 Margin(BankId bank) const;
  std::vector<Obligation> ModelObligations() const;

  // Generation.
  void Generate();
  Cmd NewCmd(Op op);
  int64_t SpendAmount(int64_t available);
  AccountId PickOpenMostly(const std::vector<AccountId>& pool);
  AccountId PickGuaranteed(int bank);
  AccountId PickMutual(int circle);
  AccountId PickAnyMember();
  void GenSameBankPay();
  void GenCrossBankPay();
  void GenCirclePay();
  void GenOutsideCirclePay();
  void GenIssue();
  void GenRedeem();
  void GenFund();
  void GenDistribute();
  void GenFreeze();
  void GenLimits();
  void GenClose();
  void GenOpen();
  void GenRetry();
  void GenInvalid();
  void GenLoanOp();
  void GenProduct();
  void GenDisburse();
  void GenRepay();
  void GenWriteOff();
  size_t PickLoan();

  MAccount* Find(AccountId id) {
    return id.valid() && id.value() <= state_.accounts.size() ? &state_.accounts[id.value() - 1]
                                                              : nullptr;
  }
  MAccount& A(AccountId id) { return state_.accounts[id.value() - 1]; }
  const MAccount& A(AccountId id) const { return state_.accounts[id.value() - 1]; }
  const MCurrency& Cur(CurrencyId id) const { return currencies_[id.value() - 1]; }
  const MBank& B(BankId id) const { return banks_[id.value() - 1]; }
  bool InCircle(CircleId c, MemberId m) const {
    const auto& v = circles_[c.value() - 1].members;
    return std::binary_search(v.begin(), v.end(), m);
  }
  int BankIndex(AccountId id) const { return static_cast<int>(A(id).bank.value()) - 1; }

  uint64_t seed_;
  Rng rng_;
  bool failed_ = false;
  Ledger ledger_;

  // Structure (does not change after set-up).
  std::vector<MBank> banks_;           // index = id − 1
  std::vector<MCurrency> currencies_;  // index = id − 1
  std::vector<MCircle> circles_;       // index = id − 1
  std::vector<BankId> member_bank_;    // index = member id − 1
  std::vector<std::vector<MemberId>> bank_members_;
  CurrencyId national_;
  std::vector<MGroup> groups_;                    // index = id − 1
  std::vector<std::vector<size_t>> bank_groups_;  // group indices by bank index

  // The loan book: undone on abort by truncation and the backups of changed loans.
  std::vector<MProduct> products_;  // index = id − 1
  std::vector<MLoan> loans_;        // index = id − 1
  std::vector<std::vector<size_t>> member_loans_;  // by member id − 1: loans it is liable for
  size_t batch_products_mark_ = 0, batch_loans_mark_ = 0;
  std::vector<std::pair<size_t, MLoan>> loan_backups_;
  std::vector<size_t> batch_loans_touched_;

  // Model, requests, shadow, journal.
  State state_;
  std::unordered_map<RequestId, Committed> requests_;
  std::vector<RequestId> committed_ids_;
  std::vector<RequestId> batch_new_requests_;
  std::vector<Cmd> refused_ring_, aborted_ring_;
  std::vector<Cmd> batch_cmds_;
  std::vector<ShadowBalance> shadow_;
  std::vector<StoredBatch> journal_;
  std::unordered_set<TransferId> transfer_ids_;
  Hash256 head_{};
  uint64_t last_sealed_ts_ = 0;
  uint64_t clock_ns_ = 1'000'000'000;
  size_t setup_requests_ = 0;  // set-up commands run outside the model

  // The open batch.
  uint64_t batch_ts_ = 0;
  std::vector<ExpectedTransfer> expected_;
  std::deque<std::string> expected_memos_;
  std::vector<AccountId> expected_touched_;
  std::deque<Cmd> pending_;

  // Counters.
  uint64_t next_request_ = 1;
  uint64_t ops_ = 0;
  uint64_t ops_target_ = OpsFromEnv();
  uint64_t next_cycle_at_ = 500;
  uint64_t sealed_ = 0, aborted_ = 0;
  std::map<Outcome, uint64_t> outcomes_;
  uint64_t ok_by_op_[kOpKinds] = {};
  std::map<std::pair<Op, Outcome>, uint64_t> by_op_;
  uint64_t fund_ok_by_source_[2] = {};
  uint64_t circle_pay_ok_ = 0;
  uint64_t cross_bank_ok_ = 0, cross_bank_refused_ = 0, cycles_with_legs_ = 0, closes_ok_ = 0,
           exists_checked_ = 0, anew_retries_ = 0, clock_backwards_ = 0, extra_touched_ = 0,
           touched_faults_ = 0;
  bool last_batch_aborted_ = false;
  uint64_t day_jumps_ = 0;
};

void RandomizedRun::Fail(const std::string& what) {
  if (failed_) return;
  failed_ = true;
  ADD_FAILURE() << "AYNI_SEED=" << seed_ << " (replay with AYNI_SEED=" << seed_ << "): after "
                << sealed_ << " sealed batches, op " << ops_ << ": " << what;
}

// ---- Set-up --------------------------------------------------------------------------------

void RandomizedRun::Setup() {
  ledger_.BeginBatch(clock_ns_);
  uint64_t n = 1;
  const auto req = [&] { return RequestId::FromParts(0x5E7, n++); };
  const auto must = [&](const OpResult& r, const char* what) {
    if (r.outcome != Outcome::kOk)
      Fail(std::string("set-up: ") + what + ": " + OutcomeName(r.outcome));
    return r.id;
  };
  national_ = CurrencyId(must(ledger_.InitDeployment({req(), "BRL", 100}), "deployment"));
  std::vector<BankId> bank_ids;
  for (const BankSpec& s : kBankSpecs) {
    bank_ids.push_back(BankId(must(ledger_.CreateBank({req(), s.code, s.code}), "bank")));
  }
  for (int i = 0; i < kBanks; ++i) {
    const BankSpec& s = kBankSpecs[i];
    must(ledger_.CreateCurrency({req(), bank_ids[i], s.currency, s.coverage_min_bp,
                                 s.redemption_fee_bp, Amount(s.default_ceiling)}),
         "currency");
  }
  std::vector<CircleId> circle_ids;
  for (const CircleSpec& s : kCircleSpecs) {
    circle_ids.push_back(CircleId(must(ledger_.CreateCircle({req(), bank_ids[s.bank], s.code,
                                                             s.code, 100, Amount(s.credit_limit)}),
                                       "circle")));
  }
  bank_members_.resize(kBanks);
  for (int i = 0; i < kBanks; ++i) {
    for (int m = 0; m < kMembersPerBank; ++m) {
      const MemberId id(must(
          ledger_.CreateMember({req(), bank_ids[i], "member " + std::to_string(m)}), "member"));
      bank_members_[i].push_back(id);
    }
  }
  for (int c = 0; c < kCircles; ++c) {
    for (int m = 0; m < kCircleMembers; ++m) {
      must(ledger_.AddCircleMember(
               {req(), circle_ids[c], bank_members_[kCircleSpecs[c].bank][m], m == 0}),
           "circle member");
    }
  }
  // Two solidarity groups per bank sharing two members: members 5–9 (5 and 6 liable) and
  // 8–10 (8 and 10 liable), so one group's arrears reach into the other's.
  bank_groups_.resize(kBanks);
  for (int i = 0; i < kBanks; ++i) {
    const auto& m = bank_members_[i];
    const std::vector<std::pair<std::vector<MemberId>, std::vector<MemberId>>> specs = {
        {{m[5], m[6], m[7], m[8], m[9]}, {m[5], m[6]}}, {{m[8], m[9], m[10]}, {m[8], m[10]}}};
    for (const auto& [members, liable] : specs) {
      const SolidarityGroupId id(must(
          ledger_.CreateSolidarityGroup({req(), bank_ids[i], "group", members, liable}), "group"));
      std::vector<MemberId> sorted = members;
      std::sort(sorted.begin(), sorted.end());
      bank_groups_[i].push_back(groups_.size());
      groups_.push_back({id, bank_ids[i], sorted});
    }
  }
  if (failed()) return;

  // The model's structure, read once from what set-up created.
  for (const Currency& c : ledger_.currencies()) {
    currencies_.push_back({c.id, c.kind, c.issuer, c.circle, c.issuance,
                           c.policy.default_credit_limit.minor(),
                           c.policy.default_ceiling.minor()});
  }
  for (const Bank& b : ledger_.banks()) {
    MBank mb;
    mb.id = b.id;
    mb.vault = b.vault;
    mb.reserve = b.reserve;
    mb.fees = b.fees;
    mb.loans = b.loans;
    mb.write_off = b.write_off;
    mb.due_from = b.due_from;
    mb.due_to = b.due_to;
    mb.due_from.resize(kBanks + 1);
    mb.due_to.resize(kBanks + 1);
    mb.currency = b.issued.at(0);
    mb.coverage_min_bp = kBankSpecs[b.id.value() - 1].coverage_min_bp;
    mb.fee_bp = kBankSpecs[b.id.value() - 1].redemption_fee_bp;
    banks_.push_back(mb);
  }
  for (const Circle& c : ledger_.circles())
    circles_.push_back({c.id, c.bank, c.currency, c.members});
  for (int i = 0; i < kBanks; ++i) {
    for (MemberId m : bank_members_[i]) {
      if (member_bank_.size() < m.value()) member_bank_.resize(m.value());
      member_bank_[m.value() - 1] = bank_ids[i];
    }
  }
  for (const Account& a : ledger_.accounts()) {
    state_.accounts.push_back({a.id, a.bank, a.currency, a.kind, a.owner, a.status,
                               a.credit_limit.minor(), a.ceiling.minor(), 0});
  }
  state_.gpool.resize(kBanks);
  state_.mpool.resize(kCircles);
  setup_requests_ = ledger_.request_count();

  // Member accounts go through the model like every later command.
  BeginModelBatch(clock_ns_);
  for (const MAccount& a : state_.accounts) expected_touched_.push_back(a.id);
  for (int i = 0; i < kBanks; ++i) {
    for (size_t m = 0; m < bank_members_[i].size(); ++m) {
      Cmd c = NewCmd(Op::kOpen);
      c.owner = bank_members_[i][m];
      c.currency = banks_[i].currency;
      c.account_kind = m % 5 == 4 ? AccountKind::kMerchant : AccountKind::kMember;
      RunCommand(c);
    }
  }
  for (int c = 0; c < kCircles; ++c) {
    for (MemberId m : circles_[c].members) {
      Cmd cmd = NewCmd(Op::kOpen);
      cmd.owner = m;
      cmd.currency = circles_[c].currency;
      RunCommand(cmd);
    }
  }
  const SealedBatch sb = ledger_.SealBatch();
  AfterSeal(sb);
}

// Gives every guaranteed account a starting balance.
void RandomizedRun::Fund() {
  BeginModelBatch(clock_ns_ += 1000);
  ledger_.BeginBatch(clock_ns_);
  for (int i = 0; i < kBanks && !failed(); ++i) {
    for (AccountId id : state_.gpool[i]) {
      Cmd c = NewCmd(Op::kIssue);
      c.account = id;
      c.amount = rng_.Uniform(10'000, 1'000'000);
      RunCommand(c);
    }
  }
  const SealedBatch sb = ledger_.SealBatch();
  AfterSeal(sb);
}

// ---- Prediction ------------------------------------------------------------------------------

Int128 RandomizedRun::Margin(BankId bank) const {
  const MBank& b = B(bank);
  Int128 assets = A(b.reserve).balance;
  for (int o = 1; o <= kBanks; ++o) {
    if (b.due_from[o].valid()) assets += A(b.due_from[o]).balance;
    if (b.due_to[o].valid()) assets += A(b.due_to[o]).balance;
  }
  const Int128 supply = -static_cast<Int128>(A(Cur(b.currency).issuance).balance);
  return assets * 10000 - supply * b.coverage_min_bp;
}

// Invariant 2, for one side of a leg.
Outcome RandomizedRun::CheckBounds(const MAccount& a, int64_t nb) const {
  if (IsMemberKind(a.kind)) {
    if (nb < -a.credit_limit) {
      return Cur(a.currency).kind == CurrencyKind::kGuaranteed ? Outcome::kInsufficientFunds
                                                               : Outcome::kExceedsCreditLimit;
    }
    if (nb > a.ceiling) return Outcome::kExceedsCeiling;
    return Outcome::kOk;
  }
  switch (a.kind) {
    case AccountKind::kReserve:
    case AccountKind::kFees:
    case AccountKind::kLoans:
    case AccountKind::kWriteOff:
    case AccountKind::kCardFloat:
    case AccountKind::kDueFrom:
      return nb < 0 ? Outcome::kSystemAccountSign : Outcome::kOk;
    case AccountKind::kIssuance:
    case AccountKind::kDueTo:
      return nb > 0 ? Outcome::kSystemAccountSign : Outcome::kOk;
    default:
      return Outcome::kOk;
  }
}

// Posts a linked group to the model: all legs or none, then coverage of `banks` (refused
// when a bank ends under-covered and worse than before).
Outcome RandomizedRun::Post(const std::vector<MLeg>& legs, const std::vector<BankId>& banks) {
  std::vector<Int128> before;
  for (BankId b : banks) before.push_back(Margin(b));
  size_t done = 0;
  Outcome o = Outcome::kOk;
  for (const MLeg& l : legs) {
    MAccount& d = A(l.debit);
    MAccount& c = A(l.credit);
    if (d.status == AccountStatus::kFrozen)
      o = Outcome::kDebitAccountFrozen;
    else if (d.status == AccountStatus::kClosed)
      o = Outcome::kDebitAccountClosed;
    else if (c.status == AccountStatus::kFrozen)
      o = Outcome::kCreditAccountFrozen;
    else if (c.status == AccountStatus::kClosed)
      o = Outcome::kCreditAccountClosed;
    int64_t nd = 0, nc = 0;
    if (o == Outcome::kOk && (__builtin_sub_overflow(d.balance, l.amount, &nd) ||
                              __builtin_add_overflow(c.balance, l.amount, &nc))) {
      o = Outcome::kBalanceOverflow;
    }
    if (o == Outcome::kOk) o = CheckBounds(d, nd);
    if (o == Outcome::kOk) o = CheckBounds(c, nc);
    if (o != Outcome::kOk) break;
    d.balance = nd;
    c.balance = nc;
    ++done;
  }
  if (o == Outcome::kOk) {
    for (size_t i = 0; i < banks.size(); ++i) {
      const Int128 after = Margin(banks[i]);
      if (after < 0 && after < before[i]) o = Outcome::kCoverageWouldBreak;
    }
  }
  if (o != Outcome::kOk) {
    for (size_t i = done; i-- > 0;) {
      A(legs[i].debit).balance += legs[i].amount;
      A(legs[i].credit).balance -= legs[i].amount;
    }
  }
  return o;
}

Prediction RandomizedRun::Predict(const Cmd& c) {
  Prediction p;
  if (c.request.zero()) {
    p.outcome = Outcome::kRequestIdZero;
    return p;
  }
  if (const auto it = requests_.find(c.request); it != requests_.end()) {
    const Committed& orig = it->second;
    p.field = FirstDifferentField(orig.cmd, c);
    if (p.field != nullptr) {
      p.outcome = Outcome::kExistsWithDifferentFields;
    } else {
      p.outcome = Outcome::kExists;
      p.result_id = orig.result_id;
      p.timestamp_ns = orig.timestamp_ns;
      p.legs_count = orig.legs;
    }
    return p;
  }
  switch (c.op) {
    case Op::kPay:
      return PredictPay(c);
    case Op::kIssue:
    case Op::kRedeem:
    case Op::kDistribute:
      return PredictMemberAmount(c);
    case Op::kFund:
      return PredictFund(c);
    case Op::kStatus:
      return PredictStatus(c);
    case Op::kLimits:
      return PredictLimits(c);
    case Op::kOpen:
      return PredictOpen(c);
    case Op::kCycle:
      break;  // RunCycle predicts around the ledger's report
    case Op::kProduct:
      return PredictProduct(c);
    case Op::kDisburse:
      return PredictDisburse(c);
    case Op::kRepay:
      return PredictRepay(c);
    case Op::kWriteOff:
      return PredictWriteOff(c);
  }
  return p;
}

Prediction RandomizedRun::PredictPay(const Cmd& c) {
  Prediction p;
  const auto refuse = [&](Outcome o) {
    p.outcome = o;
    return p;
  };
  if (c.amount <= 0) return refuse(Outcome::kAmountNotPositive);
  if (c.memo.size() > kMemoBytesMax) return refuse(Outcome::kMemoTooLong);
  const MAccount* from = Find(c.from);
  if (from == nullptr) return refuse(Outcome::kDebitAccountNotFound);
  const MAccount* to = Find(c.to);
  if (to == nullptr) return refuse(Outcome::kCreditAccountNotFound);
  if (c.from == c.to) return refuse(Outcome::kSameAccount);
  if (!IsMemberKind(from->kind) || !IsMemberKind(to->kind)) {
    return refuse(Outcome::kWrongAccountKind);
  }
  const MCurrency& cf = Cur(from->currency);
  const MCurrency& ct = Cur(to->currency);
  std::vector<BankId> banks;
  if (cf.id == ct.id) {
    if (cf.kind == CurrencyKind::kMutualCredit &&
        (!InCircle(cf.circle, from->owner) || !InCircle(cf.circle, to->owner))) {
      return refuse(Outcome::kNotInCircle);
    }
    p.legs = {{c.from, c.to, c.amount, TransferCode::kPayment}};
  } else {
    // Mutual credit never leaves its circle; guaranteed currencies trade at 1:1 through
    // burn at the payer's bank, mint at the payee's, and an inter-bank obligation.
    if (cf.kind != CurrencyKind::kGuaranteed || ct.kind != CurrencyKind::kGuaranteed) {
      return refuse(Outcome::kNotInCircle);
    }
    p.legs = {{c.from, cf.issuance, c.amount, TransferCode::kPayment},
              {ct.issuance, c.to, c.amount, TransferCode::kPayment}};
    banks.push_back(cf.issuer);
    if (cf.issuer != ct.issuer) {
      p.legs.push_back({B(cf.issuer).due_to[ct.issuer.value()],
                        B(ct.issuer).due_from[cf.issuer.value()], c.amount,
                        TransferCode::kInterbank});
      banks.push_back(ct.issuer);
    }
  }
  p.outcome = Post(p.legs, banks);
  return p;
}

Prediction RandomizedRun::PredictMemberAmount(const Cmd& c) {
  Prediction p;
  const auto refuse = [&](Outcome o) {
    p.outcome = o;
    return p;
  };
  if (c.amount <= 0) return refuse(Outcome::kAmountNotPositive);
  if (c.memo.size() > kMemoBytesMax) return refuse(Outcome::kMemoTooLong);
  const MAccount* a = Find(c.account);
  if (a == nullptr) return refuse(Outcome::kAccountNotFound);
  if (!IsMemberKind(a->kind)) return refuse(Outcome::kWrongAccountKind);
  const MCurrency& cur = Cur(a->currency);
  if (cur.kind != CurrencyKind::kGuaranteed) return refuse(Outcome::kWrongCurrencyKind);
  const MBank& b = B(cur.issuer);
  switch (c.op) {
    case Op::kIssue:
      p.legs = {{b.vault, b.reserve, c.amount, TransferCode::kIssue},
                {cur.issuance, c.account, c.amount, TransferCode::kIssue}};
      break;
    case Op::kRedeem: {
      // fee = floor(x × bp / 10000) (SPEC §3); the member gets the rest.
      const int64_t fee = static_cast<int64_t>(static_cast<Int128>(c.amount) * b.fee_bp / 10000);
      p.legs = {{c.account, cur.issuance, c.amount, TransferCode::kRedeem}};
      if (c.amount - fee > 0)
        p.legs.push_back({b.reserve, b.vault, c.amount - fee, TransferCode::kRedeem});
      if (fee > 0) p.legs.push_back({b.reserve, b.fees, fee, TransferCode::kFee});
      break;
    }
    default:
      p.legs = {{cur.issuance, c.account, c.amount, TransferCode::kDistribute}};
      break;
  }
  p.outcome = Post(p.legs, {cur.issuer});
  return p;
}

Prediction RandomizedRun::PredictFund(const Cmd& c) {
  Prediction p;
  if (c.amount <= 0) {
    p.outcome = Outcome::kAmountNotPositive;
  } else if (c.memo.size() > kMemoBytesMax) {
    p.outcome = Outcome::kMemoTooLong;
  } else if (!c.bank.valid() || c.bank.value() > banks_.size()) {
    p.outcome = Outcome::kBankNotFound;
  } else {
    const MBank& b = B(c.bank);
    p.legs = {{c.source == FundSource::kVault ? b.vault : b.fees, b.reserve, c.amount,
               TransferCode::kFundReserve}};
    p.outcome = Post(p.legs, {c.bank});
  }
  return p;
}

Prediction RandomizedRun::PredictStatus(const Cmd& c) {
  Prediction p;
  MAccount* a = Find(c.account);
  if (c.actor.empty())
    p.outcome = Outcome::kInvalidName;
  else if (c.reason.empty())
    p.outcome = Outcome::kInvalidReason;
  else if (a == nullptr)
    p.outcome = Outcome::kAccountNotFound;
  else if (!IsMemberKind(a->kind))
    p.outcome = Outcome::kWrongAccountKind;
  else if (a->status == AccountStatus::kClosed)
    p.outcome = Outcome::kAccountClosed;
  else if (c.status == AccountStatus::kClosed && a->balance != 0)
    p.outcome = Outcome::kAccountNotEmpty;
  if (p.outcome == Outcome::kOk) {
    a->status = c.status;
    p.result_id = c.account.value();
  }
  return p;
}

Prediction RandomizedRun::PredictLimits(const Cmd& c) {
  Prediction p;
  MAccount* a = Find(c.account);
  if (c.credit_limit < 0 || c.ceiling < 0)
    p.outcome = Outcome::kInvalidLimit;
  else if (c.actor.empty())
    p.outcome = Outcome::kInvalidName;
  else if (c.reason.empty())
    p.outcome = Outcome::kInvalidReason;
  else if (a == nullptr)
    p.outcome = Outcome::kAccountNotFound;
  else if (!IsMemberKind(a->kind))
    p.outcome = Outcome::kWrongAccountKind;
  else if (a->status == AccountStatus::kClosed)
    p.outcome = Outcome::kAccountClosed;
  else if (Cur(a->currency).kind == CurrencyKind::kGuaranteed && c.credit_limit != 0) {
    p.outcome = Outcome::kWrongCurrencyKind;  // guaranteed currency is never owed
  } else if (a->balance < -c.credit_limit)
    p.outcome = Outcome::kExceedsCreditLimit;
  else if (a->balance > c.ceiling)
    p.outcome = Outcome::kExceedsCeiling;
  if (p.outcome == Outcome::kOk) {
    a->credit_limit = c.credit_limit;
    a->ceiling = c.ceiling;
    p.result_id = c.account.value();
  }
  return p;
}

Prediction RandomizedRun::PredictOpen(const Cmd& c) {
  Prediction p;
  const bool member_ok = c.owner.valid() && c.owner.value() <= member_bank_.size();
  const bool currency_ok = c.currency.valid() && c.currency.value() <= currencies_.size();
  if (!IsMemberKind(c.account_kind))
    p.outcome = Outcome::kInvalidKind;
  else if (!member_ok)
    p.outcome = Outcome::kMemberNotFound;
  else if (!currency_ok)
    p.outcome = Outcome::kCurrencyNotFound;
  else if (Cur(c.currency).kind == CurrencyKind::kNational)
    p.outcome = Outcome::kWrongCurrencyKind;
  else if (Cur(c.currency).kind == CurrencyKind::kGuaranteed &&
           Cur(c.currency).issuer != member_bank_[c.owner.value() - 1]) {
    p.outcome = Outcome::kMemberOfOtherBank;
  } else if (Cur(c.currency).kind == CurrencyKind::kMutualCredit &&
             !InCircle(Cur(c.currency).circle, c.owner)) {
    p.outcome = Outcome::kNotInCircle;
  }
  if (p.outcome != Outcome::kOk) return p;
  const MCurrency& cur = Cur(c.currency);
  MAccount a;
  a.id = AccountId(state_.accounts.size() + 1);
  a.bank = cur.issuer;
  a.currency = cur.id;
  a.kind = c.account_kind;
  a.owner = c.owner;
  a.credit_limit = cur.kind == CurrencyKind::kMutualCredit ? cur.default_limit : 0;
  a.ceiling = cur.default_ceiling;
  state_.accounts.push_back(a);
  if (cur.kind == CurrencyKind::kGuaranteed) {
    state_.gpool[cur.issuer.value() - 1].push_back(a.id);
  } else {
    state_.mpool[cur.circle.value() - 1].push_back(a.id);
  }
  p.result_id = a.id.value();
  return p;
}

// ---- Prediction: microcredit -----------------------------------------------------------------

namespace loanmodel {

// docs/loans.md: instalment k due at t0 + (grace + k·period) days; principal P/n, the last
// the remainder; interest floor(outstanding × rate × days / 300000), days = period (+ grace
// for the first).
std::vector<MInstalment> Schedule(int64_t p, const MProduct& prod, uint64_t t0) {
  std::vector<MInstalment> out;
  const int64_t n = prod.instalments, each = p / n;
  int64_t outstanding = p;
  for (int64_t k = 1; k <= n; ++k) {
    const uint64_t days = static_cast<uint64_t>(prod.grace_days + k * prod.period_days);
    const int64_t period = prod.period_days + (k == 1 ? prod.grace_days : 0);
    const int64_t interest =
        static_cast<int64_t>(static_cast<Int128>(outstanding) * prod.rate_bp * period / 300000);
    const int64_t principal = k == n ? outstanding : each;
    out.push_back({t0 + days * 86'400'000'000'000ull, principal, interest});
    outstanding -= principal;
  }
  return out;
}

// Interest of every period started strictly before `now`, less what was paid.
int64_t Payable(const MLoan& l, uint64_t now) {
  if (l.status != LoanStatus::kActive) return 0;
  int64_t charged = 0;
  uint64_t start = l.disbursed_ns;
  for (const MInstalment& in : l.schedule) {
    if (now <= start) break;
    charged += in.interest;
    start = in.due_ns;
  }
  return charged - l.interest_paid;
}

// Some instalment due strictly before `now` is not covered by cumulative repayments.
bool PastDue(const MLoan& l, uint64_t now) {
  if (l.status != LoanStatus::kActive) return false;
  int64_t cp = 0, ci = 0;
  for (const MInstalment& in : l.schedule) {
    if (in.due_ns >= now) break;
    cp += in.principal;
    ci += in.interest;
    if (l.repaid < cp || l.interest_paid < ci) return true;
  }
  return false;
}

}  // namespace loanmodel

Prediction RandomizedRun::PredictProduct(const Cmd& c) {
  Prediction p;
  const bool bank_ok = c.bank.valid() && c.bank.value() <= banks_.size();
  const bool currency_ok = c.currency.valid() && c.currency.value() <= currencies_.size();
  if (c.name.empty())
    p.outcome = Outcome::kInvalidName;
  else if (c.amount <= 0)
    p.outcome = Outcome::kAmountNotPositive;
  else if (c.rate_bp < 0 || c.rate_bp > 100)
    p.outcome = Outcome::kInvalidBasisPoints;
  else if (c.instalments < 1 || c.instalments > 120 || c.period_days < 1 || c.period_days > 366 ||
           c.grace_days < 0 || c.grace_days > 366)
    p.outcome = Outcome::kInvalidTerms;
  else if (!bank_ok)
    p.outcome = Outcome::kBankNotFound;
  else if (!currency_ok)
    p.outcome = Outcome::kCurrencyNotFound;
  else if (c.currency != national_ &&
           !(Cur(c.currency).kind == CurrencyKind::kGuaranteed && Cur(c.currency).issuer == c.bank))
    p.outcome = Outcome::kWrongCurrencyKind;
  if (p.outcome != Outcome::kOk) return p;
  const LoanProductId id(products_.size() + 1);
  products_.push_back(
      {id, c.bank, c.currency, c.amount, c.rate_bp, c.instalments, c.period_days, c.grace_days});
  p.result_id = id.value();
  return p;
}

Outcome RandomizedRun::LoanAccount(const MProduct& p, const std::vector<MemberId>& borrowers,
                                   AccountId account) const {
  if (p.currency == national_) {
    return account.valid() ? Outcome::kWrongAccountKind : Outcome::kOk;
  }
  const MAccount* a = account.valid() && account.value() <= state_.accounts.size()
                          ? &state_.accounts[account.value() - 1]
                          : nullptr;
  if (a == nullptr) return Outcome::kAccountNotFound;
  if (!IsMemberKind(a->kind)) return Outcome::kWrongAccountKind;
  if (a->currency != p.currency) return Outcome::kWrongCurrencyKind;
  if (std::find(borrowers.begin(), borrowers.end(), a->owner) == borrowers.end()) {
    return Outcome::kNotBorrower;
  }
  return Outcome::kOk;
}

// Any loan that one of `members` is liable for is past due or written off.
bool RandomizedRun::Blocked(const std::vector<MemberId>& members) const {
  for (MemberId m : members) {
    if (m.value() > member_loans_.size()) continue;
    for (size_t index : member_loans_[m.value() - 1]) {
      const MLoan& l = loans_[index];
      if (l.status == LoanStatus::kWrittenOff || loanmodel::PastDue(l, batch_ts_)) return true;
    }
  }
  return false;
}

// The loan at `index`, backed up the first time this batch changes it.
MLoan& RandomizedRun::TouchLoan(size_t index) {
  if (index < batch_loans_mark_ && std::none_of(loan_backups_.begin(), loan_backups_.end(),
                                                [&](const auto& b) { return b.first == index; })) {
    loan_backups_.push_back({index, loans_[index]});
  }
  batch_loans_touched_.push_back(index);
  return loans_[index];
}

Prediction RandomizedRun::PredictDisburse(const Cmd& c) {
  Prediction p;
  const auto refuse = [&](Outcome o) {
    p.outcome = o;
    return p;
  };
  if (c.amount <= 0) return refuse(Outcome::kAmountNotPositive);
  if (c.memo.size() > kMemoBytesMax) return refuse(Outcome::kMemoTooLong);
  if (c.owner.valid() == c.group.valid()) return refuse(Outcome::kInvalidKind);
  if (!c.product.valid() || c.product.value() > products_.size()) {
    return refuse(Outcome::kLoanProductNotFound);
  }
  const MProduct prod = products_[c.product.value() - 1];
  std::vector<MemberId> borrowers;
  if (c.owner.valid()) {
    if (c.owner.value() > member_bank_.size()) return refuse(Outcome::kMemberNotFound);
    if (member_bank_[c.owner.value() - 1] != prod.bank) return refuse(Outcome::kMemberOfOtherBank);
    borrowers = {c.owner};
  } else {
    if (c.group.value() > groups_.size()) return refuse(Outcome::kGroupNotFound);
    const MGroup& g = groups_[c.group.value() - 1];
    if (g.bank != prod.bank) return refuse(Outcome::kMemberOfOtherBank);
    borrowers = g.members;
  }
  if (c.amount > prod.max) return refuse(Outcome::kPrincipalAboveMax);
  if (Outcome o = LoanAccount(prod, borrowers, c.account); o != Outcome::kOk) return refuse(o);
  if (Blocked(borrowers)) return refuse(Outcome::kBorrowerInArrears);
  const MBank& b = B(prod.bank);
  if (prod.currency == national_) {
    p.legs = {{b.reserve, b.loans, c.amount, TransferCode::kLoanDisburse}};
  } else {
    p.legs = {{Cur(prod.currency).issuance, c.account, c.amount, TransferCode::kLoanDisburse}};
  }
  p.outcome = Post(p.legs, {prod.bank});
  if (p.outcome != Outcome::kOk) return p;
  MLoan l;
  l.id = LoanId(loans_.size() + 1);
  l.product = prod.id;
  l.bank = prod.bank;
  l.currency = prod.currency;
  l.borrowers = borrowers;
  l.member = c.owner;
  l.group = c.group;
  l.disbursed_ns = batch_ts_;
  l.principal = c.amount;
  l.schedule = loanmodel::Schedule(c.amount, prod, batch_ts_);
  for (MemberId m : l.borrowers) {
    if (member_loans_.size() < m.value()) member_loans_.resize(m.value());
    member_loans_[m.value() - 1].push_back(loans_.size());
  }
  loans_.push_back(std::move(l));
  batch_loans_touched_.push_back(loans_.size() - 1);
  p.result_id = loans_.size();
  return p;
}

Prediction RandomizedRun::PredictRepay(const Cmd& c) {
  Prediction p;
  const auto refuse = [&](Outcome o) {
    p.outcome = o;
    return p;
  };
  if (c.amount <= 0) return refuse(Outcome::kAmountNotPositive);
  if (c.memo.size() > kMemoBytesMax) return refuse(Outcome::kMemoTooLong);
  if (!c.loan.valid() || c.loan.value() > loans_.size()) return refuse(Outcome::kLoanNotFound);
  const size_t index = c.loan.value() - 1;
  const MLoan& l = loans_[index];
  if (l.status != LoanStatus::kActive) return refuse(Outcome::kLoanNotActive);
  const MProduct& prod = products_[l.product.value() - 1];
  if (Outcome o = LoanAccount(prod, l.borrowers, c.account); o != Outcome::kOk) return refuse(o);
  const int64_t payable = loanmodel::Payable(l, batch_ts_);
  if (c.amount > payable + l.outstanding()) return refuse(Outcome::kOverpayment);
  const int64_t interest = std::min(c.amount, payable), principal = c.amount - interest;
  const MBank& b = B(l.bank);
  if (l.currency == national_) {
    if (interest > 0) p.legs.push_back({b.vault, b.fees, interest, TransferCode::kLoanInterest});
    if (principal > 0) p.legs.push_back({b.loans, b.reserve, principal, TransferCode::kLoanRepay});
  } else {
    const AccountId iss = Cur(l.currency).issuance;
    if (interest > 0) {
      p.legs.push_back({c.account, iss, interest, TransferCode::kLoanInterest});
      p.legs.push_back({b.reserve, b.fees, interest, TransferCode::kLoanInterest});
    }
    if (principal > 0) p.legs.push_back({c.account, iss, principal, TransferCode::kLoanRepay});
  }
  p.outcome = Post(p.legs, {l.bank});
  if (p.outcome != Outcome::kOk) return p;
  MLoan& m = TouchLoan(index);
  m.interest_paid += interest;
  m.repaid += principal;
  ++m.repayments;
  if (m.outstanding() == 0) m.status = LoanStatus::kRepaid;
  p.result_id = c.loan.value();
  return p;
}

Prediction RandomizedRun::PredictWriteOff(const Cmd& c) {
  Prediction p;
  if (c.actor.empty()) {
    p.outcome = Outcome::kInvalidName;
  } else if (c.reason.empty()) {
    p.outcome = Outcome::kInvalidReason;
  } else if (!c.loan.valid() || c.loan.value() > loans_.size()) {
    p.outcome = Outcome::kLoanNotFound;
  } else if (loans_[c.loan.value() - 1].status != LoanStatus::kActive) {
    p.outcome = Outcome::kLoanNotActive;
  }
  if (p.outcome != Outcome::kOk) return p;
  const size_t index = c.loan.value() - 1;
  const MLoan& l = loans_[index];
  if (l.currency == national_) {
    p.legs = {{B(l.bank).loans, B(l.bank).write_off, l.outstanding(), TransferCode::kLoanWriteOff}};
    p.outcome = Post(p.legs, {l.bank});
    if (p.outcome != Outcome::kOk) return p;
  }
  MLoan& m = TouchLoan(index);
  m.written_off = m.outstanding();
  m.status = LoanStatus::kWrittenOff;
  p.result_id = c.loan.value();
  return p;
}

std::vector<Obligation> RandomizedRun::ModelObligations() const {
  std::vector<Obligation> out;
  for (int d = 1; d <= kBanks; ++d) {
    for (int c = 1; c <= kBanks; ++c) {
      if (c == d) continue;
      const int64_t bal = A(banks_[c - 1].due_from[d]).balance;
      if (bal > 0) out.push_back({BankId(d), BankId(c), Amount(bal)});
    }
  }
  return out;
}

// ---- Running commands --------------------------------------------------------------------------

OpResult RandomizedRun::Execute(const Cmd& c, CycleReport* report) {
  switch (c.op) {
    case Op::kPay:
      return ledger_.Pay({c.request, c.from, c.to, Amount(c.amount), c.memo});
    case Op::kIssue:
      return ledger_.Issue({c.request, c.account, Amount(c.amount), c.memo});
    case Op::kRedeem:
      return ledger_.Redeem({c.request, c.account, Amount(c.amount), c.memo});
    case Op::kDistribute:
      return ledger_.Distribute({c.request, c.account, Amount(c.amount), c.memo});
    case Op::kFund:
      return ledger_.FundReserve({c.request, c.bank, Amount(c.amount), c.source, c.memo});
    case Op::kStatus:
      return ledger_.SetAccountStatus({c.request, c.account, c.status, c.actor, c.reason});
    case Op::kLimits:
      return ledger_.SetAccountLimits(
          {c.request, c.account, Amount(c.credit_limit), Amount(c.ceiling), c.actor, c.reason});
    case Op::kOpen:
      return ledger_.OpenAccount({c.request, c.owner, c.currency, c.account_kind});
    case Op::kCycle:
      return ledger_.RunCycle({c.request}, report);
    case Op::kProduct:
      return ledger_.CreateLoanProduct({c.request, c.bank, c.name, c.currency, Amount(c.amount),
                                        c.rate_bp, c.instalments, c.period_days, c.grace_days});
    case Op::kDisburse:
      return ledger_.DisburseLoan(
          {c.request, c.product, c.owner, c.group, Amount(c.amount), c.account, c.memo});
    case Op::kRepay:
      return ledger_.RepayLoan({c.request, c.loan, Amount(c.amount), c.account, c.memo});
    case Op::kWriteOff:
      return ledger_.WriteOffLoan({c.request, c.loan, c.actor, c.reason});
  }
  return {};
}

void RandomizedRun::RunCommand(const Cmd& c) {
  ++ops_;
  if (c.op == Op::kCycle && !requests_.contains(c.request) && !c.request.zero()) {
    RunCycle(c);
    return;
  }
  const size_t transfers_before = ledger_.batch_transfer_count();
  const Prediction p = Predict(c);
  CycleReport report;
  const OpResult r = Execute(c, c.op == Op::kCycle ? &report : nullptr);
  ++outcomes_[r.outcome];
  ++by_op_[{c.op, r.outcome}];
  if (r.outcome != p.outcome) {
    Fail(std::string("outcome ") + OutcomeName(r.outcome) + " (" + r.detail + "), expected " +
         OutcomeName(p.outcome) + " for " + Describe(c));
    return;
  }
  const size_t posted = ledger_.batch_transfer_count() - transfers_before;
  switch (r.outcome) {
    case Outcome::kOk:
      break;
    case Outcome::kExists:
      ++exists_checked_;
      if (r.id != p.result_id || r.legs != p.legs_count || r.timestamp_ns != p.timestamp_ns ||
          posted != 0) {
        Fail("identical retry answered id " + std::to_string(r.id) + " legs " +
             std::to_string(r.legs) + " ts " + std::to_string(r.timestamp_ns) + " posting " +
             std::to_string(posted) + ", expected the original id " + std::to_string(p.result_id) +
             " legs " + std::to_string(p.legs_count) + " ts " + std::to_string(p.timestamp_ns) +
             " and nothing posted: " + Describe(c));
      }
      return;
    case Outcome::kExistsWithDifferentFields:
      if (std::strcmp(r.detail, p.field) != 0 || posted != 0) {
        Fail(std::string("altered retry named field '") + r.detail + "', expected '" + p.field +
             "' (and nothing posted): " + Describe(c));
      }
      return;
    default:
      if (posted != 0) Fail("a refused command posted transfers: " + Describe(c));
      if (refused_ring_.size() < kRetryRingMax) {
        refused_ring_.push_back(c);
      } else {
        refused_ring_[rng_.Next() % kRetryRingMax] = c;
      }
      if (c.cross_bank) ++cross_bank_refused_;
      return;
  }
  // Committed now.
  ++ok_by_op_[static_cast<int>(c.op)];
  if (c.cross_bank) ++cross_bank_ok_;
  if (c.op == Op::kPay && Cur(A(c.from).currency).kind == CurrencyKind::kMutualCredit) {
    ++circle_pay_ok_;
  }
  if (c.op == Op::kFund) ++fund_ok_by_source_[static_cast<int>(c.source)];
  if (c.op == Op::kStatus && c.status == AccountStatus::kClosed) ++closes_ok_;
  if (r.id != p.result_id || r.legs != p.legs.size() || posted != p.legs.size() ||
      r.timestamp_ns != batch_ts_) {
    Fail("committed with id " + std::to_string(r.id) + ", " + std::to_string(r.legs) + " legs (" +
         std::to_string(posted) + " posted), ts " + std::to_string(r.timestamp_ns) +
         "; expected id " + std::to_string(p.result_id) + ", " + std::to_string(p.legs.size()) +
         " legs, ts " + std::to_string(batch_ts_) + ": " + Describe(c));
    return;
  }
  requests_.emplace(c.request,
                    Committed{c, p.result_id, static_cast<uint32_t>(p.legs.size()), batch_ts_});
  committed_ids_.push_back(c.request);
  batch_new_requests_.push_back(c.request);
  // A write-off's only leg carries the ledger's fixed memo (the command has none).
  expected_memos_.push_back(c.op == Op::kWriteOff ? std::string("loan write-off") : c.memo);
  for (uint32_t i = 0; i < p.legs.size(); ++i) {
    expected_.push_back({c.request, i, p.legs[i], &expected_memos_.back()});
    expected_touched_.push_back(p.legs[i].debit);
    expected_touched_.push_back(p.legs[i].credit);
  }
  if (c.op == Op::kStatus || c.op == Op::kLimits || c.op == Op::kOpen) {
    expected_touched_.push_back(AccountId(p.result_id));
  }
}

// A clearing cycle (SPEC §4): the model knows the obligations and net positions; the
// ledger's plan must settle exactly those nets in at most n−1 reserve transfers, and
// leave every DUE account at zero.
void RandomizedRun::RunCycle(const Cmd& c) {
  const std::vector<Obligation> obligations = ModelObligations();
  std::map<uint64_t, int64_t> net;
  for (const Obligation& o : obligations) {
    net[o.debtor.value()] -= o.amount.minor();
    net[o.creditor.value()] += o.amount.minor();
  }
  bool short_debtor = false;
  for (const auto& [bank, n] : net) {
    if (n < 0 && A(banks_[bank - 1].reserve).balance < -n) short_debtor = true;
  }
  CycleReport rep;
  const size_t transfers_before = ledger_.batch_transfer_count();
  const OpResult r = ledger_.RunCycle({c.request}, &rep);
  ++outcomes_[r.outcome];
  ++by_op_[{Op::kCycle, r.outcome}];
  const Outcome want = short_debtor ? Outcome::kSettlementShort : Outcome::kOk;
  if (r.outcome != want) {
    Fail(std::string("cycle outcome ") + OutcomeName(r.outcome) + " (" + r.detail + "), expected " +
         OutcomeName(want) + ": " + Describe(c));
    return;
  }
  if (r.outcome != Outcome::kOk) return;
  if (rep.obligations != obligations) {
    Fail("cycle report lists " + std::to_string(rep.obligations.size()) +
         " obligations that differ from the model's " + std::to_string(obligations.size()));
    return;
  }
  // The plan must settle every net position exactly, debtors paying creditors.
  std::map<uint64_t, int64_t> settled;
  int64_t settled_total = 0, gross = 0;
  size_t nonzero = 0;
  for (const auto& [bank, n] : net) nonzero += n != 0 ? 1 : 0;
  std::vector<MLeg> legs;
  for (const SettlementInstruction& s : rep.plan.instructions) {
    if (!s.amount.positive() || net[s.from.value()] >= 0 || net[s.to.value()] <= 0) {
      Fail("cycle instruction " + std::to_string(s.from.value()) + "→" +
           std::to_string(s.to.value()) + " " + std::to_string(s.amount.minor()) +
           " is not from a net debtor to a net creditor");
      return;
    }
    settled[s.from.value()] -= s.amount.minor();
    settled[s.to.value()] += s.amount.minor();
    settled_total += s.amount.minor();
    legs.push_back(
        {B(s.from).reserve, B(s.to).reserve, s.amount.minor(), TransferCode::kSettlement});
  }
  for (const auto& [bank, n] : net) {
    if (settled[bank] != n) {
      Fail("cycle settles " + std::to_string(settled[bank]) + " for bank " + std::to_string(bank) +
           " whose net position is " + std::to_string(n));
      return;
    }
  }
  for (const Obligation& o : obligations) {
    gross += o.amount.minor();
    legs.push_back({B(o.creditor).due_from[o.debtor.value()],
                    B(o.debtor).due_to[o.creditor.value()], o.amount.minor(),
                    TransferCode::kSettlement});
  }
  if (rep.plan.instructions.size() + (nonzero > 0 ? 1 : 0) > nonzero ||
      rep.plan.gross_total.minor() != gross || rep.plan.settled_total.minor() != settled_total ||
      rep.plan.liquidity_saved.minor() != gross - settled_total ||
      rep.number != state_.cycles + 1 || r.id != rep.number) {
    Fail("cycle report: " + std::to_string(rep.plan.instructions.size()) + " instructions for " +
         std::to_string(nonzero) + " banks with a position, gross " +
         std::to_string(rep.plan.gross_total.minor()) + " (model " + std::to_string(gross) +
         "), settled " + std::to_string(rep.plan.settled_total.minor()) + " (model " +
         std::to_string(settled_total) + "), number " + std::to_string(rep.number) + " (model " +
         std::to_string(state_.cycles + 1) + ")");
    return;
  }
  std::vector<BankId> all;
  for (const MBank& b : banks_) all.push_back(b.id);
  std::vector<Int128> margins;
  for (BankId b : all) margins.push_back(Margin(b));
  if (Outcome o = Post(legs, {}); o != Outcome::kOk) {
    Fail(std::string("the model refuses the ledger's own cycle legs: ") + OutcomeName(o));
    return;
  }
  for (size_t i = 0; i < all.size(); ++i) {
    if (Margin(all[i]) != margins[i]) Fail("a cycle changed the coverage margin of a bank");
  }
  if (!ModelObligations().empty()) Fail("DUE accounts are not all zero after a cycle");
  const size_t posted = ledger_.batch_transfer_count() - transfers_before;
  if (r.legs != legs.size() || posted != legs.size()) {
    Fail("cycle posted " + std::to_string(posted) + " legs, expected " +
         std::to_string(legs.size()));
    return;
  }
  ++state_.cycles;
  ++ok_by_op_[static_cast<int>(Op::kCycle)];
  if (!legs.empty()) ++cycles_with_legs_;
  requests_.emplace(c.request,
                    Committed{c, rep.number, static_cast<uint32_t>(legs.size()), batch_ts_});
  committed_ids_.push_back(c.request);
  batch_new_requests_.push_back(c.request);
  expected_memos_.push_back("clearing cycle");
  for (uint32_t i = 0; i < legs.size(); ++i) {
    expected_.push_back({c.request, i, legs[i], &expected_memos_.back()});
    expected_touched_.push_back(legs[i].debit);
    expected_touched_.push_back(legs[i].credit);
  }
}

// ---- Batches -------------------------------------------------------------------------------

void RandomizedRun::BeginModelBatch(uint64_t ts) {
  batch_ts_ = ts;
  batch_products_mark_ = products_.size();
  batch_loans_mark_ = loans_.size();
  loan_backups_.clear();
  batch_loans_touched_.clear();
  batch_new_requests_.clear();
  expected_.clear();
  expected_memos_.clear();
  expected_touched_.clear();
  batch_cmds_.clear();
}

void RandomizedRun::RunBatch() {
  const uint64_t size = static_cast<uint64_t>(rng_.Uniform(1, kBatchOpsMax));
  const bool abort = rng_.Percent(kAbortPercent);
  // Now and then the caller's clock goes backwards: the ledger keeps time increasing.
  uint64_t now = clock_ns_ += static_cast<uint64_t>(rng_.Uniform(1, 5'000'000));
  if (rng_.PerMille(kDayJumpPerMille)) {
    now = clock_ns_ += static_cast<uint64_t>(rng_.Uniform(1, 10)) * kDayNs;
    ++day_jumps_;
  }
  if (rng_.Percent(2)) {
    now = last_sealed_ts_ - static_cast<uint64_t>(rng_.Uniform(0, 1000));
    ++clock_backwards_;
  }
  BeginModelBatch(std::max(now, last_sealed_ts_ + 1));
  const State snapshot = state_;
  const size_t committed_before = committed_ids_.size();
  ledger_.BeginBatch(now);
  for (uint64_t i = 0; i < size && !failed(); ++i) {
    if (pending_.empty()) Generate();
    const Cmd c = std::move(pending_.front());
    pending_.pop_front();
    batch_cmds_.push_back(c);
    RunCommand(c);
  }
  if (failed()) return;
  if (abort) {
    ledger_.AbortBatch();
    ++aborted_;
    state_ = snapshot;
    products_.resize(batch_products_mark_);
    for (size_t i = loans_.size(); i-- > batch_loans_mark_;) {
      for (MemberId m : loans_[i].borrowers) member_loans_[m.value() - 1].pop_back();
    }
    loans_.resize(batch_loans_mark_);
    for (auto it = loan_backups_.rbegin(); it != loan_backups_.rend(); ++it) {
      loans_[it->first] = it->second;
    }
    for (const RequestId& id : batch_new_requests_) requests_.erase(id);
    committed_ids_.resize(committed_before);
    for (const Cmd& c : batch_cmds_) {
      if (aborted_ring_.size() < kRetryRingMax) {
        aborted_ring_.push_back(c);
      } else {
        aborted_ring_[rng_.Next() % kRetryRingMax] = c;
      }
    }
    AfterAbort();
    last_batch_aborted_ = true;
  } else {
    const SealedBatch sb = ledger_.SealBatch();
    AfterSeal(sb);
    last_batch_aborted_ = false;
  }
}

void RandomizedRun::AfterSeal(const SealedBatch& sb) {
  if (failed()) return;
  ++sealed_;
  if (sb.sequence != sealed_ || sb.prev_hash != head_ || sb.timestamp_ns != batch_ts_ ||
      sb.hash != Blake2b256(head_, sb.bytes) || ledger_.head() != sb.hash ||
      ledger_.batch_sequence() != sb.sequence) {
    Fail("sealed batch " + std::to_string(sb.sequence) + " (expected " + std::to_string(sealed_) +
         ") does not chain: prev_hash, hash = BLAKE2b(prev ‖ bytes), timestamp " +
         std::to_string(sb.timestamp_ns) + " (expected " + std::to_string(batch_ts_) + ")");
    return;
  }
  head_ = sb.hash;
  last_sealed_ts_ = sb.timestamp_ns;
  // The batch's transfers are exactly the predicted legs, in order.
  if (sb.transfers.size() != expected_.size()) {
    Fail("sealed batch holds " + std::to_string(sb.transfers.size()) + " transfers, the model " +
         std::to_string(expected_.size()));
    return;
  }
  for (size_t i = 0; i < expected_.size(); ++i) {
    const Transfer& t = sb.transfers[i];
    const ExpectedTransfer& e = expected_[i];
    if (t.request != e.request || t.leg != e.leg || t.id != DeriveTransferId(e.request, e.leg) ||
        t.debit != e.l.debit || t.credit != e.l.credit || t.amount.minor() != e.l.amount ||
        t.code != e.l.code || t.currency != A(e.l.debit).currency ||
        t.timestamp_ns != sb.timestamp_ns || t.memo != *e.memo) {
      Fail("transfer " + std::to_string(i) + " of the batch: " + std::to_string(t.debit.value()) +
           "→" + std::to_string(t.credit.value()) + " " + std::to_string(t.amount.minor()) +
           " code " + TransferCodeName(t.code) + ", expected " + std::to_string(e.l.debit.value()) +
           "→" + std::to_string(e.l.credit.value()) + " " + std::to_string(e.l.amount) + " code " +
           TransferCodeName(e.l.code) + " (or id/request/leg/currency/timestamp/memo differ)");
      return;
    }
    if (!transfer_ids_.insert(t.id).second) {
      Fail("transfer id " + t.id.ToHex() + " committed twice (invariant 5)");
      return;
    }
  }
  // Every account the batch changed must be listed (a store persists exactly these);
  // accounts of refused groups may be listed too (harmless, counted in the summary).
  std::sort(expected_touched_.begin(), expected_touched_.end());
  expected_touched_.erase(std::unique(expected_touched_.begin(), expected_touched_.end()),
                          expected_touched_.end());
  // The list comes in first-touch order and must name each account once.
  std::vector<AccountId> listed = sb.touched_accounts;
  std::sort(listed.begin(), listed.end());
  std::string missing;
  for (AccountId id : expected_touched_) {
    if (!std::binary_search(listed.begin(), listed.end(), id)) {
      missing += " " + std::to_string(id.value());
    }
  }
  if (!missing.empty() || std::adjacent_find(listed.begin(), listed.end()) != listed.end() ||
      (!listed.empty() && listed.back().value() > state_.accounts.size())) {
    // Reported (the test fails) but not fatal: nothing else depends on this list, so the
    // run goes on to exercise the rest; the first few are described.
    if (++touched_faults_ <= 3) {
      ADD_FAILURE() << "AYNI_SEED=" << seed_ << " (replay with AYNI_SEED=" << seed_
                    << "): touched_accounts of batch " << sb.sequence << " lists "
                    << sb.touched_accounts.size() << " accounts; changed but missing:" << missing
                    << "; batches aborted so far: " << aborted_
                    << (last_batch_aborted_ ? " (the batch just before was aborted)" : "");
    }
  } else {
    extra_touched_ += sb.touched_accounts.size() - expected_touched_.size();
  }
  // The shadow moves only with what was sealed.
  shadow_.resize(state_.accounts.size());
  for (const Transfer& t : sb.transfers) {
    ShadowBalance& d = shadow_[t.debit.value() - 1];
    ShadowBalance& c = shadow_[t.credit.value() - 1];
    d.balance -= t.amount.minor();
    d.debits += t.amount.minor();
    c.balance += t.amount.minor();
    c.credits += t.amount.minor();
  }
  journal_.push_back({sb.sequence, sb.bytes, sb.hash});
  CompareWithShadow("after seal");
  if (failed()) return;
  CompareLoans();
  if (failed()) return;
  const std::vector<Fault> faults = CheckInvariants(ledger_);
  if (!faults.empty()) {
    Fail("CheckInvariants after batch " + std::to_string(sb.sequence) + ":\n" +
         FormatFaults(faults));
    return;
  }
  if (sealed_ % kJournalCheckEveryBatches == 0) CheckJournalNow();
}

void RandomizedRun::AfterAbort() {
  if (ledger_.batch_sequence() != sealed_ || ledger_.head() != head_) {
    Fail("AbortBatch moved the journal head");
    return;
  }
  CompareWithShadow("after abort");
  if (failed()) return;
  // After an abort every loan the batch changed is back as it was: compare them all.
  batch_loans_touched_.clear();
  for (const auto& [index, loan] : loan_backups_) batch_loans_touched_.push_back(index);
  CompareLoans();
  if (failed()) return;
  const std::vector<Fault> faults = CheckInvariants(ledger_);
  if (!faults.empty()) Fail("CheckInvariants after an abort:\n" + FormatFaults(faults));
}

// Ledger vs shadow (balances and posted totals) vs model (balances, status, limits); after
// an abort the model is the snapshot taken at BeginBatch.
void RandomizedRun::CompareWithShadow(const char* when) {
  const auto accounts = ledger_.accounts();
  if (accounts.size() != state_.accounts.size() || shadow_.size() != state_.accounts.size()) {
    Fail(std::string(when) + ": ledger has " + std::to_string(accounts.size()) +
         " accounts, model " + std::to_string(state_.accounts.size()) + ", shadow " +
         std::to_string(shadow_.size()));
    return;
  }
  if (ledger_.request_count() != requests_.size() + setup_requests_) {
    Fail(std::string(when) + ": ledger remembers " + std::to_string(ledger_.request_count()) +
         " requests, model " + std::to_string(requests_.size() + setup_requests_));
    return;
  }
  if (ledger_.cycles().size() != state_.cycles) {
    Fail(std::string(when) + ": ledger has " + std::to_string(ledger_.cycles().size()) +
         " cycles, model " + std::to_string(state_.cycles));
    return;
  }
  for (size_t i = 0; i < accounts.size(); ++i) {
    const Account& a = accounts[i];
    const ShadowBalance& s = shadow_[i];
    const MAccount& m = state_.accounts[i];
    if (a.balance.minor() != s.balance || a.debits_posted.minor() != s.debits ||
        a.credits_posted.minor() != s.credits || m.balance != s.balance || a.status != m.status ||
        a.credit_limit.minor() != m.credit_limit || a.ceiling.minor() != m.ceiling ||
        a.currency != m.currency || a.kind != m.kind) {
      Fail(std::string(when) + ": account " + std::to_string(i + 1) + " (" +
           AccountKindName(a.kind) + "): ledger balance " + std::to_string(a.balance.minor()) +
           " debits " + std::to_string(a.debits_posted.minor()) + " credits " +
           std::to_string(a.credits_posted.minor()) + " status " + AccountStatusName(a.status) +
           " limit " + std::to_string(a.credit_limit.minor()) + "; shadow balance " +
           std::to_string(s.balance) + " debits " + std::to_string(s.debits) + " credits " +
           std::to_string(s.credits) + "; model balance " + std::to_string(m.balance) + " status " +
           AccountStatusName(m.status) + " limit " + std::to_string(m.credit_limit));
      return;
    }
  }
}

// The ledger's loan book vs the model's: counts always, and every loan this batch changed
// field by field (status, principal repaid, interest paid, written off, repayments, and
// the schedule the ledger computed against the model's own arithmetic).
void RandomizedRun::CompareLoans() {
  if (ledger_.loans().size() != loans_.size() ||
      ledger_.loan_products().size() != products_.size()) {
    Fail("ledger has " + std::to_string(ledger_.loans().size()) + " loans and " +
         std::to_string(ledger_.loan_products().size()) + " products, model " +
         std::to_string(loans_.size()) + " and " + std::to_string(products_.size()));
    return;
  }
  for (size_t index : batch_loans_touched_) {
    const Loan& a = ledger_.loans()[index];
    const MLoan& m = loans_[index];
    bool same = a.status == m.status && a.principal.minor() == m.principal &&
                a.principal_repaid.minor() == m.repaid &&
                a.interest_paid.minor() == m.interest_paid &&
                a.written_off.minor() == m.written_off && a.repayments.size() == m.repayments &&
                a.disbursed_ns == m.disbursed_ns && a.member == m.member && a.group == m.group &&
                a.schedule.size() == m.schedule.size();
    for (size_t k = 0; same && k < m.schedule.size(); ++k) {
      same = a.schedule[k].due_ns == m.schedule[k].due_ns &&
             a.schedule[k].principal.minor() == m.schedule[k].principal &&
             a.schedule[k].interest.minor() == m.schedule[k].interest;
    }
    if (!same) {
      Fail("loan " + std::to_string(index + 1) + ": ledger " + LoanStatusName(a.status) +
           " repaid " + std::to_string(a.principal_repaid.minor()) + " interest " +
           std::to_string(a.interest_paid.minor()) + " written off " +
           std::to_string(a.written_off.minor()) + "; model " + LoanStatusName(m.status) +
           " repaid " + std::to_string(m.repaid) + " interest " + std::to_string(m.interest_paid) +
           " written off " + std::to_string(m.written_off) + " (or schedule/borrower differ)");
      return;
    }
  }
}

void RandomizedRun::CheckJournalNow() {
  const std::vector<Fault> faults = CheckJournal(ledger_, journal_);
  if (!faults.empty()) {
    Fail("CheckJournal over " + std::to_string(journal_.size()) + " batches:\n" +
         FormatFaults(faults));
  }
}

// ---- Generation ------------------------------------------------------------------------------

Cmd RandomizedRun::NewCmd(Op op) {
  Cmd c;
  c.op = op;
  c.request = RequestId::FromParts(0xA7, next_request_++);
  if (rng_.Percent(10)) c.memo = "memo " + std::to_string(rng_.Uniform(0, 99));
  return c;
}

// Mostly affordable, sometimes all of it, sometimes more than there is.
int64_t RandomizedRun::SpendAmount(int64_t available) {
  if (available <= 0) return rng_.Uniform(1, 1000);
  const int64_t r = rng_.Uniform(0, 99);
  if (r < 70) return rng_.Uniform(1, available / 4 + 1);
  if (r < 85) return rng_.Uniform(1, available);
  if (r < 88) return available;
  return available + rng_.Uniform(1, 5000);
}

// Closed accounts stay in the pools (payments to and from them must be refused) but are
// picked rarely, so that the mix is not dominated by refusals.
AccountId RandomizedRun::PickOpenMostly(const std::vector<AccountId>& pool) {
  AccountId id = rng_.Pick(pool);
  for (int tries = 0; tries < 4 && A(id).status == AccountStatus::kClosed && !rng_.Percent(5);
       ++tries) {
    id = rng_.Pick(pool);
  }
  return id;
}
AccountId RandomizedRun::PickGuaranteed(int bank) { return PickOpenMostly(state_.gpool[bank]); }
AccountId RandomizedRun::PickMutual(int circle) { return PickOpenMostly(state_.mpool[circle]); }
AccountId RandomizedRun::PickAnyMember() {
  if (rng_.Percent(25)) return PickMutual(static_cast<int>(rng_.Uniform(0, kCircles - 1)));
  return PickGuaranteed(static_cast<int>(rng_.Uniform(0, kBanks - 1)));
}

void RandomizedRun::Generate() {
  if (rng_.Uniform(0, 999) < kLoanOpsPerMille) return GenLoanOp();
  if (ops_ + pending_.size() >= next_cycle_at_) {
    next_cycle_at_ += static_cast<uint64_t>(rng_.Uniform(kCycleEveryOpsMin, kCycleEveryOpsMax));
    pending_.push_back(NewCmd(Op::kCycle));
    pending_.back().memo.clear();
    return;
  }
  const int64_t r = rng_.Uniform(0, 999);
  if (r < 270) return GenSameBankPay();
  if (r < 420) return GenCrossBankPay();
  if (r < 570) return GenCirclePay();
  if (r < 590) return GenOutsideCirclePay();
  if (r < 670) return GenIssue();
  if (r < 720) return GenRedeem();
  if (r < 750) return GenFund();
  if (r < 790) return GenDistribute();
  if (r < 820) return GenFreeze();
  if (r < 850) return GenLimits();
  if (r < 853) return GenClose();
  if (r < 856) return GenOpen();
  if (r < 930) return GenRetry();
  return GenInvalid();
}

// ---- Generation: microcredit ---------------------------------------------------------------

void RandomizedRun::GenLoanOp() {
  if (products_.size() < 2 || rng_.Percent(4)) return GenProduct();
  const int64_t r = rng_.Uniform(0, 99);
  if (r < 40) return GenDisburse();
  // Write-offs are rare: a written-off borrower (and each of their groups) never borrows
  // again, and the run needs borrowers.
  if (r < 99 || loans_.empty()) return GenRepay();
  return GenWriteOff();
}

// Mostly an active loan (any loan otherwise, to see kLoanNotActive).
size_t RandomizedRun::PickLoan() {
  if (rng_.Percent(90)) {
    std::vector<size_t> active;
    for (size_t i = 0; i < loans_.size(); ++i) {
      if (loans_[i].status == LoanStatus::kActive) active.push_back(i);
    }
    if (!active.empty()) return rng_.Pick(active);
  }
  return static_cast<size_t>(rng_.Uniform(0, static_cast<int64_t>(loans_.size()) - 1));
}

// Mostly valid products of a random bank, in national money or the bank's own currency;
// sometimes a term out of range or a currency the bank cannot lend.
void RandomizedRun::GenProduct() {
  Cmd c = NewCmd(Op::kProduct);
  const int bank = static_cast<int>(rng_.Uniform(0, kBanks - 1));
  c.bank = banks_[bank].id;
  c.name = "product " + std::to_string(products_.size() + 1);
  c.currency = rng_.Percent(50) ? national_ : banks_[bank].currency;
  c.amount = rng_.Uniform(1'000, 2'000'000);
  c.rate_bp = static_cast<int32_t>(rng_.Uniform(0, 100));
  c.instalments = static_cast<int32_t>(rng_.Uniform(1, 6));
  c.period_days = static_cast<int32_t>(rng_.Uniform(1, 30));
  c.grace_days = rng_.Percent(30) ? static_cast<int32_t>(rng_.Uniform(1, 10)) : 0;
  // Past kProductsMax only refused products: loans keep choosing among a few.
  switch (products_.size() >= kProductsMax ? rng_.Uniform(0, 5) : rng_.Uniform(0, 19)) {
    case 0:
      c.rate_bp = 101;  // above the policy cap
      break;
    case 1:
      c.instalments = 0;
      break;
    case 2:
      c.currency = banks_[(bank + 1) % kBanks].currency;  // another bank's currency
      break;
    case 3:
      c.currency = circles_[0].currency;  // mutual credit is nobody's reserve
      break;
    case 4:
      c.name.clear();
      break;
    case 5:
      c.period_days = rng_.Percent(50) ? 0 : 367;
      break;
    default:
      break;
  }
  pending_.push_back(c);
}

void RandomizedRun::GenDisburse() {
  Cmd c = NewCmd(Op::kDisburse);
  if (products_.empty()) return GenProduct();
  const MProduct& prod = rng_.Pick(products_);
  c.product = prod.id;
  const int bank = static_cast<int>(prod.bank.value()) - 1;
  std::vector<MemberId> borrowers;
  if (rng_.Percent(25)) {
    c.group = groups_[rng_.Pick(bank_groups_[bank])].id;
    borrowers = groups_[c.group.value() - 1].members;
  } else {
    c.owner = rng_.Pick(bank_members_[bank]);  // the groups' members (5–10) borrow alone too
    borrowers = {c.owner};
  }
  if (prod.currency != national_) {
    std::vector<AccountId> theirs;
    for (AccountId id : state_.gpool[bank]) {
      if (std::find(borrowers.begin(), borrowers.end(), A(id).owner) != borrowers.end()) {
        theirs.push_back(id);
      }
    }
    c.account = theirs.empty() || rng_.Percent(3) ? PickGuaranteed(bank) : rng_.Pick(theirs);
  }
  const int64_t r = rng_.Uniform(0, 99);
  if (r < 85) {
    c.amount = rng_.Uniform(1, std::max<int64_t>(1, prod.max / 4));
  } else if (r < 95) {
    c.amount = prod.max;
  } else {
    c.amount = prod.max + 1;
  }
  switch (rng_.Uniform(0, 39)) {
    case 0:
      c.group = groups_[rng_.Pick(bank_groups_[bank])].id;  // both borrowers set
      c.owner = bank_members_[bank][0];
      break;
    case 1:
      c.product = LoanProductId(products_.size() + 7);
      break;
    case 2:
      c.owner = bank_members_[(bank + 1) % kBanks][0];  // a member of another bank
      c.group = SolidarityGroupId();
      break;
    case 3:
      c.account = prod.currency == national_ ? PickGuaranteed(bank) : AccountId();
      break;
    case 4:
      c.amount = 0;
      break;
    default:
      break;
  }
  pending_.push_back(c);
}

void RandomizedRun::GenRepay() {
  Cmd c = NewCmd(Op::kRepay);
  if (loans_.empty()) return GenDisburse();
  const MLoan& l = loans_[PickLoan()];
  c.loan = l.id;
  if (l.currency != national_) {
    std::vector<AccountId> theirs;
    for (AccountId id : state_.gpool[l.bank.value() - 1]) {
      if (std::find(l.borrowers.begin(), l.borrowers.end(), A(id).owner) != l.borrowers.end()) {
        theirs.push_back(id);
      }
    }
    c.account = theirs.empty() || rng_.Percent(3)
                    ? PickGuaranteed(static_cast<int>(l.bank.value()) - 1)
                    : rng_.Pick(theirs);
  }
  // What the model says is owed now (the batch's time is close to the caller's clock).
  const int64_t owed = loanmodel::Payable(l, clock_ns_) + l.outstanding();
  const int64_t r = rng_.Uniform(0, 99);
  if (r < 25 && !l.schedule.empty()) {
    c.amount = l.schedule[0].principal + l.schedule[0].interest;  // about one instalment
  } else if (r < 55) {
    c.amount = rng_.Uniform(1, std::max<int64_t>(1, owed / 3));
  } else if (r < 80) {
    c.amount = std::max<int64_t>(1, owed);  // pay off
  } else if (r < 88) {
    c.amount = owed + 1;  // an overpayment (unless time moved on)
  } else if (r < 92) {
    c.amount = 0;
  } else if (r < 95) {
    c.loan = LoanId(loans_.size() + 3);
    c.amount = 100;
  } else {
    c.amount = rng_.Uniform(1, 1000);
  }
  pending_.push_back(c);
}

void RandomizedRun::GenWriteOff() {
  Cmd c = NewCmd(Op::kWriteOff);
  c.memo.clear();
  c.loan = loans_[PickLoan()].id;
  c.actor = "admin";
  c.reason = "unrecoverable";
  if (rng_.Percent(5)) c.reason.clear();
  if (rng_.Percent(3)) c.loan = LoanId(loans_.size() + 1);
  pending_.push_back(c);
}

void RandomizedRun::GenSameBankPay() {
  const int bank = static_cast<int>(rng_.Uniform(0, kBanks - 1));
  Cmd c = NewCmd(Op::kPay);
  c.from = PickGuaranteed(bank);
  do c.to = PickGuaranteed(bank);
  while (c.to == c.from);
  c.amount = SpendAmount(A(c.from).balance);
  pending_.push_back(c);
}

void RandomizedRun::GenCrossBankPay() {
  const int from_bank = static_cast<int>(rng_.Uniform(0, kBanks - 1));
  int to_bank = static_cast<int>(rng_.Uniform(0, kBanks - 2));
  if (to_bank >= from_bank) ++to_bank;
  Cmd c = NewCmd(Op::kPay);
  c.from = PickGuaranteed(from_bank);
  c.to = PickGuaranteed(to_bank);
  c.amount = SpendAmount(A(c.from).balance);
  c.cross_bank = true;
  pending_.push_back(c);
}

void RandomizedRun::GenCirclePay() {
  const int circle = static_cast<int>(rng_.Uniform(0, kCircles - 1));
  Cmd c = NewCmd(Op::kPay);
  c.from = PickMutual(circle);
  do c.to = PickMutual(circle);
  while (c.to == c.from);
  c.amount = SpendAmount(A(c.from).balance + A(c.from).credit_limit);
  pending_.push_back(c);
}

// Mutual credit never leaves its circle: to the other circle, or to a guaranteed account.
void RandomizedRun::GenOutsideCirclePay() {
  const int circle = static_cast<int>(rng_.Uniform(0, kCircles - 1));
  Cmd c = NewCmd(Op::kPay);
  c.from = PickMutual(circle);
  c.to = rng_.Percent(50) ? PickMutual(1 - circle)
                          : PickGuaranteed(static_cast<int>(rng_.Uniform(0, kBanks - 1)));
  if (rng_.Percent(30)) std::swap(c.from, c.to);
  c.amount = rng_.Uniform(1, 1000);
  pending_.push_back(c);
}

void RandomizedRun::GenIssue() {
  Cmd c = NewCmd(Op::kIssue);
  c.account = PickGuaranteed(static_cast<int>(rng_.Uniform(0, kBanks - 1)));
  c.amount = rng_.Uniform(1, 200'000);
  pending_.push_back(c);
}

void RandomizedRun::GenRedeem() {
  Cmd c = NewCmd(Op::kRedeem);
  c.account = PickGuaranteed(static_cast<int>(rng_.Uniform(0, kBanks - 1)));
  c.amount = SpendAmount(A(c.account).balance);
  pending_.push_back(c);
}

void RandomizedRun::GenFund() {
  Cmd c = NewCmd(Op::kFund);
  c.bank = BankId(static_cast<uint64_t>(rng_.Uniform(1, kBanks)));
  if (rng_.Percent(60)) {
    c.source = FundSource::kVault;
    c.amount = rng_.Uniform(1, 100'000);
  } else {
    c.source = FundSource::kFees;
    c.amount = SpendAmount(A(B(c.bank).fees).balance);
  }
  pending_.push_back(c);
}

// Within the reserve's excess, or beyond it (refused: coverage would break).
void RandomizedRun::GenDistribute() {
  Cmd c = NewCmd(Op::kDistribute);
  const int bank = static_cast<int>(rng_.Uniform(0, kBanks - 1));
  c.account = PickGuaranteed(bank);
  const Int128 margin = Margin(banks_[bank].id);
  const int64_t excess = margin <= 0 ? 0
                                     : static_cast<int64_t>(std::min<Int128>(
                                           margin / banks_[bank].coverage_min_bp, INT64_MAX / 4));
  if (excess >= 1 && rng_.Percent(50)) {
    c.amount = rng_.Uniform(1, std::min<int64_t>(excess, 100'000));
  } else {
    c.amount = excess + rng_.Uniform(1, 10'000);
  }
  pending_.push_back(c);
}

// Freezes one account, or unfreezes a frozen one.
void RandomizedRun::GenFreeze() {
  Cmd c = NewCmd(Op::kStatus);
  std::vector<AccountId> frozen;
  for (const MAccount& a : state_.accounts) {
    if (a.status == AccountStatus::kFrozen) frozen.push_back(a.id);
  }
  if (!frozen.empty() && rng_.Percent(60)) {
    c.account = rng_.Pick(frozen);
    c.status = AccountStatus::kActive;
    c.reason = "unfreeze";
  } else {
    c.account = PickAnyMember();
    c.status = rng_.Percent(90) ? AccountStatus::kFrozen : AccountStatus::kActive;
    c.reason = "freeze";
  }
  pending_.push_back(c);
}

void RandomizedRun::GenLimits() {
  Cmd c = NewCmd(Op::kLimits);
  c.actor = "circle admin";
  if (rng_.Percent(50)) {
    const int circle = static_cast<int>(rng_.Uniform(0, kCircles - 1));
    c.account = PickMutual(circle);
    c.credit_limit = rng_.Uniform(0, 3 * kCircleSpecs[circle].credit_limit);
    c.ceiling = rng_.Percent(80)
                    ? INT64_MAX
                    : std::max<int64_t>(0, A(c.account).balance + rng_.Uniform(-1000, 100'000));
    c.reason = "circle vote";
  } else {
    c.account = PickGuaranteed(static_cast<int>(rng_.Uniform(0, kBanks - 1)));
    const int64_t bal = A(c.account).balance;
    const int64_t r = rng_.Uniform(0, 99);
    if (r < 50)
      c.ceiling = INT64_MAX;
    else if (r < 85)
      c.ceiling = bal + rng_.Uniform(0, 200'000);
    else
      c.ceiling = std::max<int64_t>(0, bal - rng_.Uniform(1, 1000));
    if (rng_.Percent(5)) c.credit_limit = rng_.Uniform(1, 1000);  // refused: guaranteed
    c.reason = "ceiling review";
  }
  pending_.push_back(c);
}

// Closes an account, first emptying it with a payment when it holds something.
void RandomizedRun::GenClose() {
  const bool mutual = rng_.Percent(30);
  const int pool = static_cast<int>(rng_.Uniform(0, (mutual ? kCircles : kBanks) - 1));
  const std::vector<AccountId>& v = mutual ? state_.mpool[pool] : state_.gpool[pool];
  const AccountId id = rng_.Pick(v);
  AccountId other;
  for (int tries = 0; tries < 8 && (!other.valid() || other == id); ++tries) other = rng_.Pick(v);
  const int64_t bal = A(id).balance;
  if (other.valid() && other != id && bal != 0 && rng_.Percent(90)) {
    Cmd pay = NewCmd(Op::kPay);
    pay.from = bal > 0 ? id : other;
    pay.to = bal > 0 ? other : id;
    pay.amount = bal > 0 ? bal : -bal;
    pay.memo = "closing";
    pending_.push_back(pay);
  }
  Cmd c = NewCmd(Op::kStatus);
  c.account = id;
  c.status = AccountStatus::kClosed;
  c.reason = "member left";
  pending_.push_back(c);
}

void RandomizedRun::GenOpen() {
  Cmd c = NewCmd(Op::kOpen);
  if (rng_.Percent(30)) {
    const int circle = static_cast<int>(rng_.Uniform(0, kCircles - 1));
    c.owner = rng_.Pick(circles_[circle].members);
    c.currency = circles_[circle].currency;
  } else {
    const int bank = static_cast<int>(rng_.Uniform(0, kBanks - 1));
    c.owner = rng_.Pick(bank_members_[bank]);
    c.currency = banks_[bank].currency;
    c.account_kind = rng_.Percent(30) ? AccountKind::kMerchant : AccountKind::kMember;
  }
  pending_.push_back(c);
}

// Retries: of committed requests (identical → kExists, altered → kExistsWithDifferentFields)
// and of refused or aborted ones (not recorded, so evaluated anew).
void RandomizedRun::GenRetry() {
  const int64_t r = rng_.Uniform(0, 99);
  if (r < 15 && !refused_ring_.empty()) {
    ++anew_retries_;
    pending_.push_back(rng_.Pick(refused_ring_));
    return;
  }
  if (r < 30 && !aborted_ring_.empty()) {
    ++anew_retries_;
    pending_.push_back(rng_.Pick(aborted_ring_));
    return;
  }
  if (committed_ids_.empty()) return GenIssue();
  Cmd c = requests_.at(rng_.Pick(committed_ids_)).cmd;
  c.cross_bank = false;
  if (r < 65) {
    pending_.push_back(c);
    return;
  }
  switch (rng_.Uniform(0, 3)) {
    case 0:  // another operation under the same id
      c.op = c.op == Op::kIssue ? Op::kRedeem : Op::kIssue;
      if (!c.account.valid()) c.account = PickGuaranteed(0);
      break;
    case 1:
      c.amount += rng_.Percent(50) ? 1 : -c.amount;  // even a zero amount: the id decides first
      c.credit_limit += 1;
      c.account_kind =
          c.account_kind == AccountKind::kMember ? AccountKind::kMerchant : AccountKind::kMember;
      c.status =
          c.status == AccountStatus::kFrozen ? AccountStatus::kActive : AccountStatus::kFrozen;
      break;
    case 2:
      c.memo += "!";
      c.reason += "!";
      c.currency = CurrencyId(c.currency.value() + 1);
      break;
    default:
      c.to = AccountId(c.to.value() + 1);
      c.account = AccountId(c.account.value() + 1);
      c.bank = BankId(c.bank.value() % kBanks + 1);
      c.owner = MemberId(c.owner.value() + 1);
      break;
  }
  if (c.op == Op::kCycle) c.op = Op::kPay;  // a cycle has no fields but its kind
  pending_.push_back(c);
}

// Malformed input and unknown things.
void RandomizedRun::GenInvalid() {
  Cmd c = NewCmd(Op::kPay);
  const int bank = static_cast<int>(rng_.Uniform(0, kBanks - 1));
  c.from = PickGuaranteed(bank);
  c.to = PickGuaranteed(bank);
  c.amount = rng_.Uniform(1, 100);
  const AccountId unknown(state_.accounts.size() + static_cast<uint64_t>(rng_.Uniform(1, 1000)));
  switch (rng_.Uniform(0, 13)) {
    case 0:
      c.amount = 0;
      break;
    case 1:
      c.amount = -rng_.Uniform(1, 1'000'000);
      break;
    case 2:
      c.from = unknown;
      break;
    case 3:
      c.to = unknown;
      break;
    case 4:
      c.to = c.from;
      break;
    case 5:
      c.from = banks_[bank].reserve;
      break;  // system accounts are not for payments
    case 6:
      c.memo = std::string(kMemoBytesMax + 1, 'm');
      break;
    case 7:
      c.request = RequestId();
      break;
    case 8:
      c.op = Op::kIssue;
      c.account = rng_.Percent(50) ? unknown : PickMutual(0);  // not found / not guaranteed
      break;
    case 9:
      c.op = Op::kFund;
      c.bank = BankId(kBanks + static_cast<uint64_t>(rng_.Uniform(1, 5)));
      break;
    case 10:
      c.op = Op::kStatus;
      c.account = c.from;
      c.status = AccountStatus::kFrozen;
      if (rng_.Percent(50))
        c.actor.clear();
      else
        c.account = banks_[bank].vault;
      break;
    case 11:
      c.op = Op::kLimits;
      c.account = PickMutual(1);
      if (rng_.Percent(50))
        c.credit_limit = -1;
      else
        c.ceiling = -5;
      break;
    case 12:
      c.op = Op::kOpen;
      c.owner = rng_.Pick(bank_members_[bank]);
      c.currency = banks_[(bank + 1) % kBanks].currency;  // another bank's currency
      break;
    default:
      c.op = Op::kOpen;
      c.owner = rng_.Pick(bank_members_[3]);  // not in any circle
      c.currency = rng_.Percent(50) ? circles_[0].currency : national_;
      if (rng_.Percent(20)) c.account_kind = AccountKind::kReserve;
      break;
  }
  pending_.push_back(c);
}

// ---- The run --------------------------------------------------------------------------------

void RandomizedRun::Run() {
  std::printf("RandomizedLedgerTest: AYNI_SEED=%" PRIu64 "\n", seed_);
  std::fflush(stdout);
  Setup();
  if (!failed()) Fund();
  next_cycle_at_ = ops_ + kCycleEveryOpsMin;
  while (!failed() && ops_ < ops_target_) RunBatch();
  if (!failed()) CheckJournalNow();
  if (!failed()) {
    // The whole history, rebuilt from the journal alone, is the same ledger.
    Ledger restored;
    const Status st = restored.Restore(journal_);
    if (!st.ok()) Fail("Restore: " + st.ToString());
    SCOPED_TRACE("AYNI_SEED=" + std::to_string(seed_) + ": ledger restored from the journal");
    if (st.ok()) ExpectSameLedger(ledger_, restored);
  }

  std::printf("RandomizedLedgerTest: AYNI_SEED=%" PRIu64 ": %" PRIu64 " ops, %" PRIu64
              " batches sealed, %" PRIu64 " aborted, %zu transfers, %" PRIu64
              " clock-backwards batches, %" PRIu64 " touched accounts beyond those changed\n",
              seed_, ops_, sealed_, aborted_, transfer_ids_.size(), clock_backwards_,
              extra_touched_);
  std::printf("  sealed batches with changed accounts missing from touched_accounts: %" PRIu64 "\n",
              touched_faults_);
  std::printf("  committed by op:");
  for (int i = 0; i < kOpKinds; ++i)
    std::printf(" %s=%" PRIu64, OpName(static_cast<Op>(i)), ok_by_op_[i]);
  std::printf("\n  cross-bank pays ok=%" PRIu64 " refused=%" PRIu64 ", cycles with legs=%" PRIu64
              ", closes=%" PRIu64 ", kExists checked=%" PRIu64 ", retries evaluated anew=%" PRIu64
              "\n",
              cross_bank_ok_, cross_bank_refused_, cycles_with_legs_, closes_ok_, exists_checked_,
              anew_retries_);
  std::printf("  loans: %zu products, %zu loans (%zu active at the end), %" PRIu64 " day jumps\n",
              products_.size(), loans_.size(),
              static_cast<size_t>(
                  std::count_if(loans_.begin(), loans_.end(),
                                [](const MLoan& l) { return l.status == LoanStatus::kActive; })),
              day_jumps_);
  std::printf("  circle pays ok=%" PRIu64 ", fund reserve ok from VAULT=%" PRIu64
              " from FEES=%" PRIu64 "\n",
              circle_pay_ok_, fund_ok_by_source_[0], fund_ok_by_source_[1]);
  std::printf("  outcomes:\n");
  for (const auto& [o, n] : outcomes_) std::printf("    %-30s %8" PRIu64 "\n", OutcomeName(o), n);
  std::printf("  outcomes by operation:\n");
  Op last = Op::kCycle;
  bool first = true;
  for (const auto& [key, n] : by_op_) {
    if (first || key.first != last)
      std::printf("%s    %-12s", first ? "" : "\n", OpName(key.first));
    std::printf(" %s=%" PRIu64, OutcomeName(key.second), n);
    last = key.first;
    first = false;
  }
  std::printf("\n");
  std::fflush(stdout);
  if (failed()) return;

  // The mix must be real: each of these happened (and kSettlementShort never can while
  // every bank is covered, SPEC §2 invariant 3).
  const auto count = [&](Outcome o) {
    const auto it = outcomes_.find(o);
    return it == outcomes_.end() ? uint64_t{0} : it->second;
  };
  const std::string seed = "AYNI_SEED=" + std::to_string(seed_);
  for (Outcome o :
       {Outcome::kOk, Outcome::kExists, Outcome::kExistsWithDifferentFields,
        Outcome::kInsufficientFunds, Outcome::kExceedsCreditLimit, Outcome::kExceedsCeiling,
        Outcome::kCoverageWouldBreak, Outcome::kNotInCircle, Outcome::kAmountNotPositive,
        Outcome::kDebitAccountNotFound, Outcome::kCreditAccountNotFound, Outcome::kAccountNotFound,
        Outcome::kDebitAccountFrozen, Outcome::kCreditAccountFrozen, Outcome::kSystemAccountSign,
        Outcome::kAccountNotEmpty, Outcome::kRequestIdZero}) {
    EXPECT_GT(count(o), 0u) << seed << ": no command ended " << OutcomeName(o);
  }
  EXPECT_EQ(count(Outcome::kSettlementShort), 0u) << seed;
  EXPECT_GT(cross_bank_ok_, 0u) << seed;
  EXPECT_GT(circle_pay_ok_, 0u) << seed;
  EXPECT_GT(fund_ok_by_source_[0], 0u) << seed << ": no reserve funded from VAULT";
  EXPECT_GT(fund_ok_by_source_[1], 0u) << seed << ": no reserve funded from FEES";
  EXPECT_GT((by_op_[{Op::kDistribute, Outcome::kCoverageWouldBreak}]), 0u)
      << seed << ": no distribution refused for coverage";
  EXPECT_GT((by_op_[{Op::kPay, Outcome::kNotInCircle}]), 0u) << seed;
  EXPECT_GT(cycles_with_legs_, 0u) << seed;
  EXPECT_GT(day_jumps_, 0u) << seed;
  for (Outcome o : {Outcome::kBorrowerInArrears, Outcome::kOverpayment, Outcome::kLoanNotActive,
                    Outcome::kPrincipalAboveMax, Outcome::kInvalidTerms, Outcome::kNotBorrower}) {
    EXPECT_GT(count(o), 0u) << seed << ": no command ended " << OutcomeName(o);
  }
  EXPECT_GT((by_op_[{Op::kDisburse, Outcome::kCoverageWouldBreak}]), 0u)
      << seed << ": no loan refused for coverage";
  EXPECT_GT(closes_ok_, 0u) << seed;
  EXPECT_GT(aborted_, 0u) << seed;
  for (int i = 0; i < kOpKinds; ++i) {
    EXPECT_GT(ok_by_op_[i], 0u) << seed << ": no " << OpName(static_cast<Op>(i)) << " committed";
  }
  EXPECT_GE(ops_, kOpsFloor) << seed;
  EXPECT_EQ(touched_faults_, 0u) << seed
                                 << ": sealed batches whose touched_accounts missed a "
                                    "changed account";
}

TEST(RandomizedLedgerTest, RandomizedOperationsKeepEveryInvariant) {
  const uint64_t seed = SeedFromEnv();
  SCOPED_TRACE("AYNI_SEED=" + std::to_string(seed));
  RandomizedRun run(seed);
  run.Run();
}

}  // namespace
}  // namespace ayni
