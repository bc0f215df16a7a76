// CardService: RegisterKiosk, RegisterCard, AuthorizeLoad, BlockCard, SubmitOfflineBatch,
// GetDenyList, GetCard, CardAudit.
#include "server/service/card_service.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "clearing/card/certificate.h"
#include "clearing/card/kiosk_batch.h"
#include "clearing/card/load_token.h"
#include "clearing/int128.h"
#include "server/api/card_convert.h"
#include "server/api/convert.h"
#include "server/api/loan_convert.h"
#include "server/service/services.h"

namespace ayni::server::service {
namespace {

constexpr std::string_view kRegisterKiosk = "/ayni.v1.CardService/RegisterKiosk";
constexpr std::string_view kRegisterCard = "/ayni.v1.CardService/RegisterCard";
constexpr std::string_view kAuthorizeLoad = "/ayni.v1.CardService/AuthorizeLoad";
constexpr std::string_view kBlockCard = "/ayni.v1.CardService/BlockCard";
constexpr std::string_view kSubmitOfflineBatch = "/ayni.v1.CardService/SubmitOfflineBatch";
constexpr std::string_view kGetDenyList = "/ayni.v1.CardService/GetDenyList";
constexpr std::string_view kGetCard = "/ayni.v1.CardService/GetCard";
constexpr std::string_view kCardAudit = "/ayni.v1.CardService/CardAudit";

// Records a pool thread verifies at a time: enough that a chunk outweighs its hand-over,
// few enough that a 10,000-record batch spreads over every core.
constexpr size_t kVerifyChunkMin = 64;

template <size_t N>
std::string Str(const std::array<uint8_t, N>& b) {
  return std::string(b.begin(), b.end());
}

// Zero bank for an unknown card: only a deployment-scoped key passes, and the ledger
// answers "not found" as data.
auth::Target CardTarget(const Ledger& l, const CardId& id) {
  const CardRecord* c = l.FindCard(id);
  return auth::Target{.bank = c ? c->bank : BankId()};
}

// The card's bank, and the caller's own kiosk when the caller is a registered kiosk.
auth::Target LoadTarget(const Ledger& l, const auth::KeyRecord& key, const CardId& card) {
  auth::Target t = CardTarget(l, card);
  if (key.scope.kind == auth::ScopeKind::kTerminal && l.FindKiosk(KioskId(key.scope.id))) {
    t.terminal_id = key.scope.id;
  }
  return t;
}

// The kiosk that owns `terminal` (0 when none: no key passes kTerminal).
auth::Target TerminalTarget(const Ledger& l, const TerminalId& terminal) {
  const KioskRecord* k = l.FindKioskByTerminal(terminal);
  return k ? auth::Target{.bank = k->bank, .terminal_id = k->id.value()} : auth::Target{};
}

// CardService needs its signing keys and its pool (aynid always gives both).
Status Ready(const ServiceContext& sc) {
  if (sc.bank_keys == nullptr || sc.card_pool == nullptr) {
    return Status::Unavailable("cards are not served: no bank keys or verification pool");
  }
  return Status::Ok();
}

// Runs `fn` on the card pool; finishes `r` UNAVAILABLE when the pool is stopping.
void OnPool(const ServiceContext& sc, grpc::ServerUnaryReactor* r, std::function<void()> fn) {
  if (!sc.card_pool->Post(std::move(fn))) Finish(r, Status::Unavailable("server stopping"));
}

// ---- SubmitOfflineBatch ----

enum class Verdict : uint8_t { kPass, kMalformed, kBadSignature };

// One kiosk batch on its way through the pool.
struct BatchJob {
  api::BatchIn in;
  KioskId kiosk;
  CardPublicKey kiosk_key{};
  std::vector<std::optional<CardPublicKey>> card_keys;  // empty: unknown card
  std::vector<Verdict> verdicts;
  std::vector<OfflineReceipt> receipts;  // set where verdicts[i] is kPass
  std::atomic<bool> kiosk_ok{false};
  std::atomic<int> parts_left{2};  // the kiosk signature, the records
};

// Parses are done; verifies records [begin, end) and builds their receipts.
void VerifyRecords(BatchJob& job, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    const std::optional<cardio::SignedRecord>& rec = job.in.parsed[i];
    if (!rec) {
      job.verdicts[i] = Verdict::kMalformed;
      continue;
    }
    // A card the ledger does not know cannot be verified here; the ledger rejects it
    // UNKNOWN_CARD without effect.
    if (job.card_keys[i] && !cardio::VerifyRecordSignature(*rec, *job.card_keys[i])) {
      job.verdicts[i] = Verdict::kBadSignature;
      continue;
    }
    job.verdicts[i] = Verdict::kPass;
    job.receipts[i] = cardio::ToOfflineReceipt(*rec, job.in.records[i]);
  }
}

ReceiptReject RejectOf(Verdict v) {
  return v == Verdict::kMalformed ? ReceiptReject::kMalformed : ReceiptReject::kBadSignature;
}

// The reply: the ledger's results for the records it saw (`report`, in order), the
// caller-side refusals for the others, one result per record in input order.
Status MergeBatchReply(const BatchJob& job, const SettleOfflineReport* report,
                       v1::SubmitOfflineBatchReply* out) {
  const size_t n = job.verdicts.size();
  size_t seen = 0;
  uint32_t refused = 0;
  for (size_t i = 0; i < n; ++i) {
    v1::ReceiptResult* p = out->add_results();
    p->set_index(static_cast<uint32_t>(i));
    if (const auto& rec = job.in.parsed[i]) {
      p->set_card_id(Str(rec->record.card_id.bytes()));
      p->set_counter(rec->record.counter);
    }
    if (job.verdicts[i] != Verdict::kPass) {
      ReceiptResult r;
      r.status = ReceiptStatus::kRejected;
      r.reject = RejectOf(job.verdicts[i]);
      api::ToProto(r, p);
      ++refused;
      continue;
    }
    if (report == nullptr || seen >= report->receipts.size()) {
      return Status::Internal("the ledger answered fewer receipts than it was given");
    }
    api::ToProto(report->receipts[seen++], p);
  }
  if (report != nullptr) {
    if (seen != report->receipts.size()) {
      return Status::Internal("the ledger answered more receipts than it was given");
    }
    out->set_settled(report->settled);
    out->set_loads_confirmed(report->loads_confirmed);
    out->set_duplicates(report->duplicates);
    out->set_rejected(report->rejected + refused);
    for (const CardId& c : report->blocked) out->add_blocked_card_ids(Str(c.bytes()));
    for (const LoadId& id : report->returned) out->add_returned_load_ids(Str(id.bytes()));
  } else {
    out->set_rejected(refused);
  }
  return Status::Ok();
}

// Every part verified: settle what passed, answer.
void SettleBatch(const Core& core, grpc::ServerUnaryReactor* r, const auth::KeyRecord& key,
                 std::shared_ptr<BatchJob> job, v1::SubmitOfflineBatchReply* reply) {
  if (!job->kiosk_ok.load()) {
    Finish(r, Status::InvalidArgument("kiosk_signature: does not verify with the key of kiosk " +
                                      std::to_string(job->kiosk.value()) + " over terminal " +
                                      job->in.terminal.ToHex() + ", batch " +
                                      std::to_string(job->in.sequence) +
                                      " and its records; nothing was settled"));
    return;
  }
  SettleOfflineCmd cmd;
  cmd.kiosk = job->kiosk;
  for (size_t i = 0; i < job->verdicts.size(); ++i) {
    if (job->verdicts[i] == Verdict::kPass) cmd.receipts.push_back(job->receipts[i]);
  }
  job->receipts.clear();
  if (cmd.receipts.empty()) {
    reply->set_timestamp_ns(core.now_ns());
    Finish(r, MergeBatchReply(*job, nullptr, reply));
    return;
  }
  const TerminalId terminal = job->in.terminal;
  core.Change(
      r, key, kSubmitOfflineBatch,
      [terminal](const Ledger& l) { return std::vector{TerminalTarget(l, terminal)}; },
      {std::move(cmd)},
      [job, reply](const Ledger&, const std::vector<CommandResult>& rs) {
        const OpResult& o = rs[0].result;
        if (o.outcome != Outcome::kOk) {
          std::string m = OutcomeName(o.outcome);
          if (o.detail[0] != '\0') m += std::string(": ") + o.detail;
          return Status::FailedPrecondition("the batch was refused as a whole: " + m);
        }
        reply->set_timestamp_ns(o.timestamp_ns);
        return MergeBatchReply(*job, &rs[0].offline, reply);
      });
}

// ---- CardAudit ----

void FillCardAudit(const Ledger& l, BankId bank, v1::CardAuditReply* out) {
  const auto in_scope = [bank](BankId b) { return !bank.valid() || b == bank; };
  std::unordered_map<uint64_t, Int128> shadow, pending;  // by currency
  uint64_t cards = 0;
  for (const CardRecord& c : l.cards()) {
    if (!in_scope(c.bank)) continue;
    ++cards;
    shadow[c.currency.value()] += c.shadow.minor();
    if (c.status == CardStatus::kBlocked) api::ToProto(l, c, out->add_blocked_cards());
    if (c.max_counter > c.records) api::ToProto(l, c, out->add_cards_with_gaps());
  }
  for (const CardLoadRecord& load : l.card_loads()) {
    if (load.state != CardLoadState::kPending) continue;
    const CardRecord* c = l.FindCard(load.card);
    if (c == nullptr || !in_scope(c->bank)) continue;
    pending[c->currency.value()] += load.amount.minor();
  }
  const auto balance = [&l](AccountId id) -> int64_t {
    const Account* a = l.FindAccount(id);
    return a ? a->balance.minor() : 0;
  };
  bool ok = true;
  for (const Currency& cur : l.currencies()) {
    if (cur.kind != CurrencyKind::kGuaranteed || !in_scope(cur.issuer)) continue;
    v1::CardFloatRow* row = out->add_currencies();
    row->set_bank_id(cur.issuer.value());
    row->set_currency_id(cur.id.value());
    row->set_currency_code(cur.code);
    const int64_t card_float = balance(cur.card_float);
    const Int128 s = shadow[cur.id.value()], p = pending[cur.id.value()];
    row->set_card_float_minor(card_float);
    // Each sum is bounded by the currency's supply when the book is sound; a sum past
    // int64 is itself an inconsistency, left unset and reported as such.
    if (const auto v = api::MinorOf(s)) row->set_shadow_total_minor(*v);
    if (const auto v = api::MinorOf(p)) row->set_pending_loads_minor(*v);
    row->set_card_losses_minor(balance(cur.card_losses));
    row->set_suspense_minor(balance(cur.suspense));
    const bool consistent = static_cast<Int128>(card_float) == s + p;
    row->set_consistent(consistent);
    ok = ok && consistent;
  }
  uint64_t kiosks = 0;
  for (const KioskRecord& k : l.kiosks()) {
    if (!in_scope(k.bank)) continue;
    ++kiosks;
    if (k.max_sequence <= k.receipts) continue;
    v1::KioskGap* g = out->add_kiosks_with_gaps();
    g->set_kiosk_id(k.id.value());
    g->set_terminal_id(Str(k.terminal.bytes()));
    g->set_label(k.label);
    g->set_receipts(k.receipts);
    g->set_max_sequence(k.max_sequence);
    g->set_missing(k.max_sequence - k.receipts);
  }
  out->set_journal_sequence(l.batch_sequence());
  out->set_cards(cards);
  out->set_kiosks(kiosks);
  out->set_ok(ok);
}

}  // namespace

ServerUnaryReactor* CardServiceImpl::RegisterKiosk(CallbackServerContext* ctx,
                                                   const v1::RegisterKioskRequest* req,
                                                   v1::RegisterKioskReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  Result<RegisterKioskCmd> cmd = api::ToCommand(*req);
  if (!cmd.ok()) {
    Finish(r, cmd.status());
    return r;
  }
  const AccountId merchant = cmd->merchant;
  core_.Change(
      r, *key, kRegisterKiosk,
      [merchant](const Ledger& l) {
        return std::vector{auth::Target{.bank = AccountTarget(l, merchant).bank}};
      },
      {*cmd},
      [reply](const Ledger&, const std::vector<CommandResult>& rs) {
        const OpResult& o = rs[0].result;
        if (Status s = api::StatusOf(o); !s.ok()) return s;
        FillOutcome(o, reply);
        reply->set_kiosk_id(o.ok() ? o.id : 0);
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* CardServiceImpl::RegisterCard(CallbackServerContext* ctx,
                                                  const v1::RegisterCardRequest* req,
                                                  v1::RegisterCardReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  const ServiceContext& sc = core_.ctx();
  if (Status s = Ready(sc); !s.ok()) {
    Finish(r, s);
    return r;
  }
  Result<RegisterCardCmd> cmd = api::ToCommand(*req);
  if (!cmd.ok()) {
    Finish(r, cmd.status());
    return r;
  }
  const AccountId account = cmd->account;
  const CardId card_id = cmd->card;
  core_.ChangeThen(
      r, *key, kRegisterCard,
      [account](const Ledger& l) {
        return std::vector{auth::Target{.bank = AccountTarget(l, account).bank}};
      },
      {*cmd},
      [r, reply, card_id, &sc](const Ledger& l, std::vector<CommandResult> rs) {
        const OpResult& o = rs[0].result;
        if (Status s = api::StatusOf(o); !s.ok()) return Finish(r, s);
        FillOutcome(o, reply);
        const CardRecord* card = o.ok() ? l.FindCard(card_id) : nullptr;
        if (card == nullptr) return Finish(r, Status::Ok());
        // The bank of the account's currency certifies the card; signed off the writer.
        OnPool(sc, r, [r, reply, &sc, cert = api::CertificateOf(*card), bank = card->bank] {
          const cardio::KeyPair k = sc.bank_keys->For(bank);
          reply->set_certificate(
              api::BytesOf(cardio::EncodeSignedCertificate(cardio::IssueCertificate(cert, k))));
          reply->set_bank_public_key(Str(k.public_key));
          Finish(r, Status::Ok());
        });
      });
  return r;
}

ServerUnaryReactor* CardServiceImpl::AuthorizeLoad(CallbackServerContext* ctx,
                                                   const v1::AuthorizeLoadRequest* req,
                                                   v1::AuthorizeLoadReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  const ServiceContext& sc = core_.ctx();
  if (Status s = Ready(sc); !s.ok()) {
    Finish(r, s);
    return r;
  }
  Result<api::LoadRequestIn> parsed = api::ToLoadRequest(*req);
  if (!parsed.ok()) {
    Finish(r, parsed.status());
    return r;
  }
  const api::LoadRequestIn in = *parsed;
  if (key->role == auth::Role::kKiosk && !in.card_signature) {
    Finish(r, Status(StatusCode::kPermissionDenied,
                     "card_signature: missing; a KIOSK key must forward the card's own signed "
                     "load request (a kiosk key alone never moves a member's money)"));
    return r;
  }
  const CardId card_id = in.cmd.card;
  const auth::KeyRecord k = *key;
  const Core* core = &core_;
  // Applies the command and answers the token, signed by the card's bank off the writer.
  auto submit = [core, r, reply, k, card_id, &sc](AuthorizeCardLoadCmd cmd) {
    const LoadId load_id(cmd.request.bytes());
    core->ChangeThen(
        r, k, kAuthorizeLoad,
        [k, card_id](const Ledger& l) { return std::vector{LoadTarget(l, k, card_id)}; },
        {std::move(cmd)},
        [r, reply, load_id, &sc](const Ledger& l, std::vector<CommandResult> rs) {
          const OpResult& o = rs[0].result;
          if (Status s = api::StatusOf(o); !s.ok()) return Finish(r, s);
          FillOutcome(o, reply);
          const CardLoadRecord* load = o.ok() ? l.FindCardLoad(load_id) : nullptr;
          const CardRecord* card = load ? l.FindCard(load->card) : nullptr;
          if (card == nullptr) return Finish(r, Status::Ok());
          OnPool(sc, r, [r, reply, &sc, token = api::LoadTokenOf(*load), bank = card->bank] {
            reply->set_load_token(api::BytesOf(cardio::EncodeSignedLoadToken(
                cardio::SignLoadToken(token, sc.bank_keys->For(bank)))));
            Finish(r, Status::Ok());
          });
        });
  };
  core_.Authorized(
      r, k, kAuthorizeLoad, [k, card_id](const Ledger& l) { return LoadTarget(l, k, card_id); },
      [r, in, submit, &sc](const Ledger& l) {
        const CardRecord* card = l.FindCard(in.cmd.card);
        if (card == nullptr) return submit(in.cmd);  // the ledger answers CARD_NOT_FOUND
        const AuthorizeCardLoadCmd cmd = api::WithDefaultCaps(in, *card);
        if (!in.card_signature) return submit(cmd);  // a teller of the card's bank
        OnPool(sc, r, [r, cmd, submit, sig = *in.card_signature, card_key = card->public_key] {
          if (!api::VerifyCardLoadRequest(cmd, sig, card_key)) {
            return Finish(r, Status::InvalidArgument(
                                 "card_signature: does not verify with the card's registered "
                                 "key over its load request (card, counter, challenge, "
                                 "amount_minor)"));
          }
          submit(cmd);
        });
      });
  return r;
}

ServerUnaryReactor* CardServiceImpl::BlockCard(CallbackServerContext* ctx,
                                               const v1::BlockCardRequest* req,
                                               v1::BlockCardReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  Result<BlockCardCmd> cmd = api::ToCommand(*req);
  if (!cmd.ok()) {
    Finish(r, cmd.status());
    return r;
  }
  const CardId card = cmd->card;
  core_.Change(
      r, *key, kBlockCard, [card](const Ledger& l) { return std::vector{CardTarget(l, card)}; },
      {*cmd},
      [reply](const Ledger&, const std::vector<CommandResult>& rs) {
        const OpResult& o = rs[0].result;
        if (Status s = api::StatusOf(o); !s.ok()) return s;
        FillOutcome(o, reply);
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* CardServiceImpl::SubmitOfflineBatch(CallbackServerContext* ctx,
                                                        const v1::SubmitOfflineBatchRequest* req,
                                                        v1::SubmitOfflineBatchReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  const ServiceContext& sc = core_.ctx();
  if (Status s = Ready(sc); !s.ok()) {
    Finish(r, s);
    return r;
  }
  Result<api::BatchIn> batch = api::ToBatch(*req);
  if (!batch.ok()) {
    Finish(r, batch.status());
    return r;
  }
  auto job = std::make_shared<BatchJob>();
  job->in = std::move(batch).value();
  const TerminalId terminal = job->in.terminal;
  const auth::KeyRecord k = *key;
  const Core* core = &core_;
  core_.Authorized(
      r, k, kSubmitOfflineBatch,
      [terminal](const Ledger& l) { return TerminalTarget(l, terminal); },
      [r, k, job, reply, core, &sc](const Ledger& l) {
        // Authorized: the terminal is the caller's own kiosk.
        const KioskRecord* kiosk = l.FindKioskByTerminal(job->in.terminal);
        if (kiosk == nullptr) return Finish(r, Status::Internal("kiosk vanished"));
        job->kiosk = kiosk->id;
        job->kiosk_key = kiosk->public_key;
        const size_t n = job->in.records.size();
        job->card_keys.resize(n);
        job->verdicts.resize(n, Verdict::kMalformed);
        job->receipts.resize(n);
        for (size_t i = 0; i < n; ++i) {
          if (!job->in.parsed[i]) continue;
          if (const CardRecord* c = l.FindCard(job->in.parsed[i]->record.card_id)) {
            job->card_keys[i] = c->public_key;
          }
        }
        auto part_done = [r, k, job, reply, core] {
          if (job->parts_left.fetch_sub(1) == 1) SettleBatch(*core, r, k, job, reply);
        };
        const bool posted = sc.card_pool->Post([job, part_done] {
          job->kiosk_ok.store(cardio::VerifyKioskBatch(job->in.terminal, job->in.sequence,
                                                       job->in.records, job->in.kiosk_signature,
                                                       job->kiosk_key));
          part_done();
        });
        if (!posted) return Finish(r, Status::Unavailable("server stopping"));
        sc.card_pool->ForEachChunk(
            n, kVerifyChunkMin,
            [job](size_t begin, size_t end) { VerifyRecords(*job, begin, end); }, part_done);
      });
  return r;
}

ServerUnaryReactor* CardServiceImpl::GetDenyList(CallbackServerContext* ctx,
                                                 const v1::GetDenyListRequest*,
                                                 v1::GetDenyListReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  const ServiceContext& sc = core_.ctx();
  if (Status s = Ready(sc); !s.ok()) {
    Finish(r, s);
    return r;
  }
  const Core* core = &core_;
  core_.Authorized(
      r, *key, kGetDenyList, [](const Ledger&) { return auth::Target{}; },
      [r, reply, core, &sc](const Ledger& l) {
        reply->set_timestamp_ns(core->now_ns());
        for (const CardId& c : l.deny_list()) reply->add_blocked_card_ids(Str(c.bytes()));
        std::vector<BankId> banks;
        banks.reserve(l.banks().size());
        for (const Bank& b : l.banks()) banks.push_back(b.id);
        // Deriving a bank's key the first time costs a key generation: off the writer.
        OnPool(sc, r, [r, reply, &sc, banks = std::move(banks)] {
          for (BankId b : banks) {
            v1::BankKey* k = reply->add_bank_keys();
            k->set_bank_id(b.value());
            k->set_public_key(Str(sc.bank_keys->PublicKeyOf(b)));
          }
          Finish(r, Status::Ok());
        });
      });
  return r;
}

ServerUnaryReactor* CardServiceImpl::GetCard(CallbackServerContext* ctx,
                                             const v1::GetCardRequest* req,
                                             v1::GetCardReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  const ServiceContext& sc = core_.ctx();
  if (Status s = Ready(sc); !s.ok()) {
    Finish(r, s);
    return r;
  }
  if (Status s = api::CheckFieldLimits(*req); !s.ok()) {
    Finish(r, s);
    return r;
  }
  CardId::Bytes b;
  std::copy(req->card_id().begin(), req->card_id().end(), b.begin());
  const CardId id(b);
  if (id.zero()) {
    Finish(r, Status::InvalidArgument("card_id: all zero"));
    return r;
  }
  core_.Authorized(
      r, *key, kGetCard, [id](const Ledger& l) { return CardTarget(l, id); },
      [r, reply, id, &sc](const Ledger& l) {
        const CardRecord* c = l.FindCard(id);
        if (c == nullptr) return Finish(r, Status::NotFound("card " + id.ToHex() + ": unknown"));
        api::ToProto(l, *c, reply->mutable_card());
        OnPool(sc, r, [r, reply, &sc, cert = api::CertificateOf(*c), bank = c->bank] {
          reply->mutable_card()->set_certificate(api::BytesOf(cardio::EncodeSignedCertificate(
              cardio::IssueCertificate(cert, sc.bank_keys->For(bank)))));
          Finish(r, Status::Ok());
        });
      });
  return r;
}

ServerUnaryReactor* CardServiceImpl::CardAudit(CallbackServerContext* ctx,
                                               const v1::CardAuditRequest* req,
                                               v1::CardAuditReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  // 0: every bank in the caller's scope — its own bank for a bank-scoped key.
  BankId bank(req->bank_id());
  if (!bank.valid() && key->scope.kind == auth::ScopeKind::kBank) bank = BankId(key->scope.id);
  core_.Query(
      r, *key, kCardAudit, [bank](const Ledger&) { return BankTarget(bank); },
      [bank, reply](const Ledger& l) {
        if (bank.valid() && l.FindBank(bank) == nullptr) {
          return Status::NotFound("bank " + std::to_string(bank.value()) + ": unknown");
        }
        FillCardAudit(l, bank, reply);
        return Status::Ok();
      });
  return r;
}

}  // namespace ayni::server::service
