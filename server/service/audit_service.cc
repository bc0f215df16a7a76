// AuditService: ReserveAudit (signed coverage table, SPEC §7) and VerifyJournal (the
// journal's chain and balances against the server's memory and the database's rows).
#include <algorithm>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "clearing/invariants.h"
#include "clearing/journal.h"
#include "clearing/journal_reader.h"
#include "clearing/portfolio.h"
#include "server/api/convert.h"
#include "server/api/loan_convert.h"
#include "server/service/services.h"

namespace ayni::server::service {
namespace {

constexpr std::string_view kReserveAudit = "/ayni.v1.AuditService/ReserveAudit";
constexpr std::string_view kVerifyJournal = "/ayni.v1.AuditService/VerifyJournal";

int64_t BalanceOf(const Ledger& l, AccountId id) {
  const Account* a = l.FindAccount(id);
  return a ? a->balance.minor() : 0;
}

// The scale of the bank's national money (its reserve's currency), for the detail line.
int64_t NationalScale(const Ledger& l, const Bank& b) {
  const Account* reserve = l.FindAccount(b.reserve);
  const Currency* c = reserve ? l.FindCurrency(reserve->currency) : nullptr;
  return c ? c->scale : 100;
}

// The loan book beside the reserve (issue 7): PAR30 at `now_ns` once the bank has lent,
// and the outstanding principal of loans in its own currencies. Guaranteed currencies
// trade 1:1 at the national scale and each outstanding principal is ≤ its minted supply;
// a sum beyond int64 is left unset rather than wrapped.
void FillLoanBook(const Ledger& l, const Bank& b, uint64_t now_ns, v1::BankAudit* out) {
  const bool lent = std::any_of(l.loans().begin(), l.loans().end(),
                                [&](const Loan& loan) { return loan.bank == b.id; });
  if (!lent) return;
  const LoanPortfolio p = PortfolioOf(l, b.id, now_ns);
  out->set_par30_bp(p.par30_bp);
  Int128 social = 0;
  for (const PortfolioCurrencyRow& row : p.currencies) {
    if (row.currency != l.national()) social += row.outstanding;
  }
  if (const auto v = api::MinorOf(social)) out->set_social_loans_outstanding_minor(*v);
}

void FillBankAudit(const Ledger& l, const Bank& b, v1::BankAudit* out) {
  v1::BankCoverage* c = out->mutable_coverage();
  api::ToProto(l, b, c);
  int32_t strictest = 0;
  int64_t card_float = 0;
  for (const v1::CurrencyCoverage& cc : c->currencies()) {
    strictest = std::max(strictest, cc.coverage_min_bp());
    card_float += cc.card_float_minor();  // each ≤ that currency's supply: no overflow
  }
  out->set_required_min_bp(strictest);
  out->set_loans_outstanding_minor(BalanceOf(l, b.loans));
  out->set_card_float_minor(card_float);
  out->set_fees_minor(BalanceOf(l, b.fees));
  if (c->covered()) {
    out->set_verdict(v1::VERDICT_COVERED);
    return;
  }
  out->set_verdict(v1::VERDICT_UNDER_COVERED);
  const int64_t scale = NationalScale(l, b);
  out->set_detail("assets " + FormatDecimal(Amount(c->assets_minor()), scale) + " < required " +
                  FormatDecimal(Amount(c->required_minor()), scale));
}

// ---- VerifyJournal ----

// What the writer holds, copied on its thread at one head.
struct MemorySnapshot {
  uint64_t sequence = 0;
  Hash256 head{};
  uint64_t head_timestamp_ns = 0;
  std::vector<ReplayAccount> accounts;  // index = id − 1
  std::vector<Fault> invariant_faults;
};

std::shared_ptr<const MemorySnapshot> SnapshotOf(const Ledger& l) {
  auto m = std::make_shared<MemorySnapshot>();
  m->sequence = l.batch_sequence();
  m->head = l.head();
  m->head_timestamp_ns = l.head_timestamp_ns();
  m->accounts.reserve(l.accounts().size());
  for (const Account& a : l.accounts()) {
    m->accounts.push_back(ReplayAccount{.opened = true,
                                        .currency = a.currency,
                                        .kind = a.kind,
                                        .status = a.status,
                                        .balance = a.balance,
                                        .debits_posted = a.debits_posted,
                                        .credits_posted = a.credits_posted});
  }
  m->invariant_faults = CheckInvariants(l);
  return m;
}

void SetHead(uint64_t sequence, const Hash256& hash, uint64_t timestamp_ns, v1::JournalHead* out) {
  out->set_sequence(sequence);
  out->set_hash(hash.data(), hash.size());
  out->set_timestamp_ns(timestamp_ns);
}

// The commit time in a batch's header ("AYNB" | u16 version | u64 sequence | u64 time).
uint64_t BatchTimestamp(const StoredBatch& b) {
  JournalReader r(b.bytes);
  r.Uint(4);
  r.U16();
  r.U64();
  const uint64_t t = r.U64();
  return r.failed() ? 0 : t;
}

void AddFault(v1::VerifyJournalReply* reply, JournalFaultKind kind, uint64_t batch,
              uint64_t account, const std::string& detail) {
  v1::JournalFault* f = reply->add_journal_faults();
  f->set_kind(static_cast<v1::JournalFaultKind>(static_cast<int>(kind)));
  f->set_batch_sequence(batch);
  f->set_account_id(account);
  f->set_detail(std::string(JournalFaultKindName(kind)) + ": " + detail);
}

std::string Figures(int64_t balance, int64_t debits, int64_t credits) {
  return "balance " + std::to_string(balance) + ", debits " + std::to_string(debits) +
         ", credits " + std::to_string(credits);
}

// Compares replayed accounts with another side's, which `side` names ("server memory",
// "database row").
template <typename Other, typename Get>
void CompareAccounts(const Replay& replay, const std::vector<Other>& others, const char* side,
                     Get get, v1::VerifyJournalReply* reply) {
  std::vector<bool> seen(replay.accounts.size(), false);
  for (const Other& o : others) {
    const ReplayAccount theirs = get(o);
    const uint64_t id = o.id;
    if (id == 0 || id > replay.accounts.size() || !replay.accounts[id - 1].opened) {
      AddFault(reply, JournalFaultKind::kAccountMismatch, 0, id,
               std::string(side) + " has account " + std::to_string(id) +
                   ", which the journal never opened");
      continue;
    }
    seen[id - 1] = true;
    const ReplayAccount& ours = replay.accounts[id - 1];
    if (ours.currency != theirs.currency || ours.kind != theirs.kind ||
        ours.status != theirs.status) {
      AddFault(reply, JournalFaultKind::kAccountMismatch, 0, id,
               "account " + std::to_string(id) + ": " + side +
                   " differs from the journal in currency, kind or status");
    }
    if (ours.balance != theirs.balance || ours.debits_posted != theirs.debits_posted ||
        ours.credits_posted != theirs.credits_posted) {
      AddFault(reply, JournalFaultKind::kBalanceMismatch, 0, id,
               "account " + std::to_string(id) + ": " + side + " " +
                   Figures(theirs.balance.minor(), theirs.debits_posted.minor(),
                           theirs.credits_posted.minor()) +
                   "; journal " +
                   Figures(ours.balance.minor(), ours.debits_posted.minor(),
                           ours.credits_posted.minor()));
    }
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (replay.accounts[i].opened && !seen[i]) {
      AddFault(reply, JournalFaultKind::kAccountMismatch, 0, i + 1,
               "account " + std::to_string(i + 1) + ": opened in the journal, missing in " +
                   side);
    }
  }
}

struct MemoryAccount {
  uint64_t id;
  const ReplayAccount* a;
};

// Runs on the audit thread.
Status Verify(const MemorySnapshot& mem, PgReader& reader, bool memory_only,
              v1::VerifyJournalReply* reply) {
  Result<DatabaseSnapshot> snap = reader.Snapshot();
  if (!snap.ok()) return snap.status();
  const std::vector<StoredBatch>& batches = snap->batches;

  // The server's memory is at batch M; the database may be ahead (batches committed
  // since), never behind unless rows were removed.
  const size_t m = static_cast<size_t>(mem.sequence);
  if (batches.size() < m) {
    AddFault(reply, JournalFaultKind::kSequenceGap, batches.size() + 1, 0,
             "the database's journal ends at batch " + std::to_string(batches.size()) +
                 ", but the server has committed batch " + std::to_string(m));
  }
  const std::span<const StoredBatch> prefix(batches.data(), std::min(m, batches.size()));
  const Replay at_head = ReplayJournal(prefix);
  for (const JournalFault& f : at_head.faults) {
    AddFault(reply, f.kind, f.batch, f.account, f.detail);
  }
  SetHead(at_head.batches, at_head.head,
          prefix.empty() || !at_head.ok() ? 0 : BatchTimestamp(prefix.back()),
          reply->mutable_replayed_head());
  SetHead(mem.sequence, mem.head, mem.head_timestamp_ns, reply->mutable_server_head());
  reply->set_batches(at_head.batches);
  reply->set_transfers(at_head.transfers);
  reply->set_accounts(mem.accounts.size());
  if (!at_head.ok()) return Status::Ok();  // balances of an untrusted journal mean nothing

  if (at_head.head != mem.head || at_head.batches != mem.sequence) {
    AddFault(reply, JournalFaultKind::kHashMismatch, 0, 0,
             "the journal's head " + HexOf(at_head.head) + " at batch " +
                 std::to_string(at_head.batches) + " differs from the server's " +
                 HexOf(mem.head) + " at batch " + std::to_string(mem.sequence));
  }
  std::vector<MemoryAccount> memory;
  memory.reserve(mem.accounts.size());
  for (size_t i = 0; i < mem.accounts.size(); ++i) memory.push_back({i + 1, &mem.accounts[i]});
  CompareAccounts(at_head, memory, "server memory",
                  [](const MemoryAccount& a) { return *a.a; }, reply);
  if (memory_only) return Status::Ok();

  // The account rows are at the database's own last batch: replay all of it.
  const Replay all = batches.size() == prefix.size() ? at_head : ReplayJournal(batches);
  for (const JournalFault& f : all.faults) {
    if (f.batch > m) AddFault(reply, f.kind, f.batch, f.account, f.detail);
  }
  if (!all.ok()) return Status::Ok();
  CompareAccounts(
      all, snap->accounts, "database row",
      [](const StoredAccountRow& r) {
        return ReplayAccount{.opened = true,
                             .currency = CurrencyId(r.currency),
                             .kind = static_cast<AccountKind>(r.kind),
                             .status = static_cast<AccountStatus>(r.status),
                             .balance = Amount(r.balance),
                             .debits_posted = Amount(r.debits_posted),
                             .credits_posted = Amount(r.credits_posted)};
      },
      reply);
  return Status::Ok();
}

}  // namespace

ServerUnaryReactor* AuditServiceImpl::ReserveAudit(CallbackServerContext* ctx,
                                                   const v1::ReserveAuditRequest* req,
                                                   v1::ReserveAuditReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  BankId bank(req->bank_id());
  // "Every bank the caller may see": for a bank-scoped key, its own bank.
  if (bank.value() == 0 && key->scope.kind == auth::ScopeKind::kBank) {
    bank = BankId(key->scope.id);
  }
  const api::Signer* signer = core_.ctx().signer;
  const uint64_t now = core_.now_ns();
  core_.Query(
      r, *key, kReserveAudit, [bank](const Ledger&) { return BankTarget(bank); },
      [bank, reply, signer, now](const Ledger& l) {
        if (bank.value() != 0 && l.FindBank(bank) == nullptr) {
          return Status::NotFound("bank " + std::to_string(bank.value()) + ": unknown");
        }
        v1::ReserveAuditReply report;
        bool covered = true;
        for (const Bank& b : l.banks()) {
          if (bank.value() != 0 && b.id != bank) continue;
          v1::BankAudit* a = report.add_banks();
          FillBankAudit(l, b, a);
          FillLoanBook(l, b, now, a);
          covered = covered && a->verdict() == v1::VERDICT_COVERED;
        }
        report.set_verdict(covered ? v1::VERDICT_COVERED : v1::VERDICT_UNDER_COVERED);
        report.set_computed_at_ns(now);
        api::ToProto(l, report.mutable_head());
        v1::Signature signature;
        if (signer != nullptr) signer->Sign(report, &signature);
        *reply = std::move(report);
        if (signer != nullptr) *reply->mutable_signature() = std::move(signature);
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* AuditServiceImpl::VerifyJournal(CallbackServerContext* ctx,
                                                    const v1::VerifyJournalRequest* req,
                                                    v1::VerifyJournalReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  TaskThread* thread = core_.ctx().audit_thread;
  PgReader* reader = core_.ctx().audit_reader;
  if (thread == nullptr || reader == nullptr) {
    Finish(r, Status::Unavailable("journal verification needs the database reader"));
    return r;
  }
  const bool memory_only = req->memory_only();
  const Core& core = core_;
  core_.Authorized(
      r, *key, kVerifyJournal, [](const Ledger&) { return BankTarget(BankId()); },
      [r, reply, thread, reader, memory_only, &core](const Ledger& l) {
        std::shared_ptr<const MemorySnapshot> mem = SnapshotOf(l);
        const bool posted = thread->Post([r, reply, reader, memory_only, mem, &core] {
          const Status s = Verify(*mem, *reader, memory_only, reply);
          if (s.ok()) {
            for (const Fault& f : mem->invariant_faults) {
              v1::InvariantFault* out = reply->add_invariant_faults();
              out->set_kind(static_cast<v1::InvariantFaultKind>(static_cast<int>(f.kind)));
              out->set_id(f.id);
              out->set_detail(std::string(FaultKindName(f.kind)) + ": " + f.detail);
            }
            reply->set_ok(reply->journal_faults().empty() && reply->invariant_faults().empty());
            reply->set_computed_at_ns(core.now_ns());
          }
          Finish(r, s);
        });
        if (!posted) Finish(r, Status::Unavailable("the server is stopping"));
      });
  return r;
}

}  // namespace ayni::server::service
