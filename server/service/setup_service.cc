// SetupService: deployment, banks, currencies, circles, members, accounts, API keys.
//
// API keys live in the in-memory registry (what authentication reads) and, written through
// on the key thread, in PostgreSQL (auth::PgKeyStore): a key is usable only after its row
// committed, and a revocation answers only after its row committed.
#include <memory>
#include <string>
#include <vector>

#include "server/api/convert.h"
#include "server/service/services.h"

namespace ayni::server::service {
namespace {

constexpr std::string_view kInitDeployment = "/ayni.v1.SetupService/InitDeployment";
constexpr std::string_view kGetDeployment = "/ayni.v1.SetupService/GetDeployment";
constexpr std::string_view kCreateBank = "/ayni.v1.SetupService/CreateBank";
constexpr std::string_view kListBanks = "/ayni.v1.SetupService/ListBanks";
constexpr std::string_view kCreateCurrency = "/ayni.v1.SetupService/CreateCurrency";
constexpr std::string_view kListCurrencies = "/ayni.v1.SetupService/ListCurrencies";
constexpr std::string_view kCreateCircle = "/ayni.v1.SetupService/CreateCircle";
constexpr std::string_view kListCircles = "/ayni.v1.SetupService/ListCircles";
constexpr std::string_view kCreateMember = "/ayni.v1.SetupService/CreateMember";
constexpr std::string_view kAddCircleMember = "/ayni.v1.SetupService/AddCircleMember";
constexpr std::string_view kOpenAccount = "/ayni.v1.SetupService/OpenAccount";
constexpr std::string_view kSetAccountStatus = "/ayni.v1.SetupService/SetAccountStatus";
constexpr std::string_view kSetAccountLimits = "/ayni.v1.SetupService/SetAccountLimits";
constexpr std::string_view kCreateApiKey = "/ayni.v1.SetupService/CreateApiKey";
constexpr std::string_view kRevokeApiKey = "/ayni.v1.SetupService/RevokeApiKey";
constexpr std::string_view kListApiKeys = "/ayni.v1.SetupService/ListApiKeys";

// A set-up command: one command, one target, reply = outcome + `id(l, o, reply)`.
template <typename Req, typename Reply, typename TargetOf, typename SetId>
ServerUnaryReactor* SetupOp(const Core& core, std::string_view method, CallbackServerContext* ctx,
                            const Req* req, Reply* reply, TargetOf target, SetId set_id) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core.Authenticate(ctx, r);
  if (!key) return r;
  auto cmd = api::ToCommand(*req);
  if (!cmd.ok()) {
    Finish(r, cmd.status());
    return r;
  }
  const auto c = *cmd;
  core.Change(
      r, *key, method, [c, target](const Ledger& l) { return std::vector{target(l, c)}; }, {c},
      [reply, set_id](const Ledger& l, const std::vector<CommandResult>& rs) {
        const OpResult& o = rs[0].result;
        if (Status s = api::StatusOf(o); !s.ok()) return s;
        FillOutcome(o, reply);
        if (o.ok()) set_id(l, o, reply);
        return Status::Ok();
      });
  return r;
}

const auto kNoTarget = [](const Ledger&, const auto&) { return auth::Target{}; };
const auto kNoId = [](const Ledger&, const OpResult&, auto*) {};

auth::Target KeyScopeTarget(const Ledger& l, const auth::Scope& s) {
  switch (s.kind) {
    case auth::ScopeKind::kBank:
      return BankTarget(BankId(s.id));
    case auth::ScopeKind::kAccount:
      return auth::Target{.bank = AccountTarget(l, AccountId(s.id)).bank};
    case auth::ScopeKind::kTerminal: {
      // A kiosk's keys belong to the bank of the merchant account it collects for.
      const KioskRecord* k = l.FindKiosk(KioskId(s.id));
      return auth::Target{.bank = k ? k->bank : BankId(), .terminal_id = s.id};
    }
    case auth::ScopeKind::kDeployment:
      break;
  }
  return auth::Target{};
}

void ToProto(const auth::KeyRecord& k, v1::ApiKey* out) {
  out->set_key_id(k.key_id.value());
  out->set_role(static_cast<v1::Role>(k.role));
  out->mutable_scope()->set_kind(static_cast<v1::ScopeKind>(k.scope.kind));
  out->mutable_scope()->set_id(k.scope.id);
  out->set_label(k.label);
  out->set_token_prefix(k.TokenPrefix());
  out->set_created_at_ns(k.created_at_ns);
  out->set_created_by_key_id(k.created_by.value());
  out->set_expires_at_ns(k.expires_at_ns);
  out->set_revoked(k.revoked());
  out->set_revoked_at_ns(k.revoked_at_ns);
  out->set_revoked_by(k.revoked_by);
  out->set_revoke_reason(k.revoke_reason);
}

}  // namespace

ServerUnaryReactor* SetupServiceImpl::InitDeployment(CallbackServerContext* ctx,
                                                     const v1::InitDeploymentRequest* req,
                                                     v1::InitDeploymentReply* reply) {
  return SetupOp(core_, kInitDeployment, ctx, req, reply, kNoTarget,
                 [](const Ledger& l, const OpResult&, v1::InitDeploymentReply* out) {
                   out->set_national_currency_id(l.national().value());
                 });
}

ServerUnaryReactor* SetupServiceImpl::CreateBank(CallbackServerContext* ctx,
                                                 const v1::CreateBankRequest* req,
                                                 v1::CreateBankReply* reply) {
  return SetupOp(
      core_, kCreateBank, ctx, req, reply, kNoTarget,
      [](const Ledger&, const OpResult& o, v1::CreateBankReply* out) { out->set_bank_id(o.id); });
}

ServerUnaryReactor* SetupServiceImpl::CreateCurrency(CallbackServerContext* ctx,
                                                     const v1::CreateCurrencyRequest* req,
                                                     v1::CreateCurrencyReply* reply) {
  return SetupOp(
      core_, kCreateCurrency, ctx, req, reply,
      [](const Ledger&, const CreateCurrencyCmd& c) { return BankTarget(c.bank); },
      [](const Ledger&, const OpResult& o, v1::CreateCurrencyReply* out) {
        out->set_currency_id(o.id);
      });
}

ServerUnaryReactor* SetupServiceImpl::CreateCircle(CallbackServerContext* ctx,
                                                   const v1::CreateCircleRequest* req,
                                                   v1::CreateCircleReply* reply) {
  return SetupOp(
      core_, kCreateCircle, ctx, req, reply,
      [](const Ledger&, const CreateCircleCmd& c) { return BankTarget(c.bank); },
      [](const Ledger& l, const OpResult& o, v1::CreateCircleReply* out) {
        out->set_circle_id(o.id);
        if (const Circle* c = l.FindCircle(CircleId(o.id))) {
          out->set_currency_id(c->currency.value());
        }
      });
}

ServerUnaryReactor* SetupServiceImpl::CreateMember(CallbackServerContext* ctx,
                                                   const v1::CreateMemberRequest* req,
                                                   v1::CreateMemberReply* reply) {
  return SetupOp(
      core_, kCreateMember, ctx, req, reply,
      [](const Ledger&, const CreateMemberCmd& c) { return BankTarget(c.bank); },
      [](const Ledger&, const OpResult& o, v1::CreateMemberReply* out) {
        out->set_member_id(o.id);
      });
}

ServerUnaryReactor* SetupServiceImpl::AddCircleMember(CallbackServerContext* ctx,
                                                      const v1::AddCircleMemberRequest* req,
                                                      v1::AddCircleMemberReply* reply) {
  return SetupOp(
      core_, kAddCircleMember, ctx, req, reply,
      [](const Ledger& l, const AddCircleMemberCmd& c) { return CircleTarget(l, c.circle); },
      kNoId);
}

ServerUnaryReactor* SetupServiceImpl::OpenAccount(CallbackServerContext* ctx,
                                                  const v1::OpenAccountRequest* req,
                                                  v1::OpenAccountReply* reply) {
  return SetupOp(
      core_, kOpenAccount, ctx, req, reply,
      [](const Ledger& l, const OpenAccountCmd& c) { return MemberTarget(l, c.owner); },
      [](const Ledger&, const OpResult& o, v1::OpenAccountReply* out) {
        out->set_account_id(o.id);
      });
}

ServerUnaryReactor* SetupServiceImpl::SetAccountStatus(CallbackServerContext* ctx,
                                                       const v1::SetAccountStatusRequest* req,
                                                       v1::SetAccountStatusReply* reply) {
  return SetupOp(
      core_, kSetAccountStatus, ctx, req, reply,
      [](const Ledger& l, const SetAccountStatusCmd& c) {
        return auth::Target{.bank = AccountTarget(l, c.account).bank};
      },
      kNoId);
}

ServerUnaryReactor* SetupServiceImpl::SetAccountLimits(CallbackServerContext* ctx,
                                                       const v1::SetAccountLimitsRequest* req,
                                                       v1::SetAccountLimitsReply* reply) {
  return SetupOp(
      core_, kSetAccountLimits, ctx, req, reply,
      [](const Ledger& l, const SetAccountLimitsCmd& c) {
        return auth::Target{.bank = AccountTarget(l, c.account).bank};
      },
      kNoId);
}

// ---- Reads ---------------------------------------------------------------------------

ServerUnaryReactor* SetupServiceImpl::GetDeployment(CallbackServerContext* ctx,
                                                    const v1::GetDeploymentRequest*,
                                                    v1::GetDeploymentReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  core_.Query(
      r, *key, kGetDeployment, [](const Ledger&) { return auth::Target{}; },
      [reply, version = core_.ctx().server_version](const Ledger& l) {
        reply->set_deployed(l.deployed());
        if (const Currency* n = l.deployed() ? l.FindCurrency(l.national()) : nullptr) {
          reply->set_national_currency_id(n->id.value());
          reply->set_national_code(n->code);
          reply->set_scale(n->scale);
        }
        reply->set_bank_count(l.bank_count());
        reply->set_currency_count(l.currency_count());
        reply->set_circle_count(l.circle_count());
        reply->set_member_count(l.member_count());
        reply->set_account_count(l.account_count());
        api::ToProto(l, reply->mutable_head());
        reply->set_server_version(version);
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* SetupServiceImpl::ListBanks(CallbackServerContext* ctx,
                                                const v1::ListBanksRequest*,
                                                v1::ListBanksReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  core_.Query(
      r, *key, kListBanks, [](const Ledger&) { return auth::Target{}; },
      [reply](const Ledger& l) {
        for (const Bank& b : l.banks()) {
          v1::Bank* out = reply->add_banks();
          out->set_bank_id(b.id.value());
          out->set_code(b.code);
          out->set_name(b.name);
          out->set_vault_account_id(b.vault.value());
          out->set_reserve_account_id(b.reserve.value());
          out->set_loans_account_id(b.loans.value());
          out->set_fees_account_id(b.fees.value());
          out->set_write_off_account_id(b.write_off.value());
          for (CurrencyId c : b.issued) out->add_issued_currency_ids(c.value());
        }
        api::ToProto(l, reply->mutable_as_of());
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* SetupServiceImpl::ListCurrencies(CallbackServerContext* ctx,
                                                     const v1::ListCurrenciesRequest* req,
                                                     v1::ListCurrenciesReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  const uint64_t bank = req->bank_id();
  core_.Query(
      r, *key, kListCurrencies, [](const Ledger&) { return auth::Target{}; },
      [bank, reply](const Ledger& l) {
        for (const Currency& c : l.currencies()) {
          if (bank != 0 && c.issuer.value() != bank) continue;
          v1::Currency* out = reply->add_currencies();
          out->set_currency_id(c.id.value());
          out->set_code(c.code);
          out->set_kind(static_cast<v1::CurrencyKind>(c.kind));
          out->set_scale(c.scale);
          out->set_issuer_bank_id(c.issuer.value());
          out->set_circle_id(c.circle.value());
          out->set_coverage_min_bp(c.policy.coverage_min_bp);
          out->set_redemption_fee_bp(c.policy.redemption_fee_bp);
          out->set_default_credit_limit_minor(c.policy.default_credit_limit.minor());
          out->set_default_ceiling_minor(c.policy.default_ceiling.minor());
          out->set_issuance_account_id(c.issuance.value());
          out->set_card_float_account_id(c.card_float.value());
          out->set_card_losses_account_id(c.card_losses.value());
          out->set_suspense_account_id(c.suspense.value());
        }
        api::ToProto(l, reply->mutable_as_of());
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* SetupServiceImpl::ListCircles(CallbackServerContext* ctx,
                                                  const v1::ListCirclesRequest* req,
                                                  v1::ListCirclesReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  const uint64_t bank = req->bank_id();
  core_.Query(
      r, *key, kListCircles, [bank](const Ledger&) { return BankTarget(BankId(bank)); },
      [bank, reply](const Ledger& l) {
        for (const Circle& c : l.circles()) {
          if (bank != 0 && c.bank.value() != bank) continue;
          v1::Circle* out = reply->add_circles();
          out->set_circle_id(c.id.value());
          out->set_bank_id(c.bank.value());
          out->set_code(c.code);
          out->set_name(c.name);
          out->set_currency_id(c.currency.value());
          out->set_member_count(c.members.size());
          out->set_admin_count(c.admins.size());
        }
        api::ToProto(l, reply->mutable_as_of());
        return Status::Ok();
      });
  return r;
}

// ---- API keys --------------------------------------------------------------------------

ServerUnaryReactor* SetupServiceImpl::CreateApiKey(CallbackServerContext* ctx,
                                                   const v1::CreateApiKeyRequest* req,
                                                   v1::CreateApiKeyReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  if (Status s = api::CheckFieldLimits(*req); !s.ok()) {
    Finish(r, s);
    return r;
  }
  Result<RequestId> request = api::ParseRequestId(req->request_id(), "request_id");
  if (!request.ok()) {
    Finish(r, request.status());
    return r;
  }
  const auto role = auth::RoleFromNumber(static_cast<uint32_t>(req->role()));
  const auto kind = auth::ScopeKindFromNumber(static_cast<uint32_t>(req->scope().kind()));
  if (!role) {
    Finish(r, Status::InvalidArgument("role: must be one of ROLE_ADMIN … ROLE_CLEARING"));
    return r;
  }
  if (!kind) {
    Finish(r, Status::InvalidArgument("scope.kind: must be set"));
    return r;
  }
  const auth::Scope scope{*kind, req->scope().id()};
  if (Status s = auth::ValidateRoleScope(*role, scope); !s.ok()) {
    Finish(r, s);
    return r;
  }
  const ServiceContext& sc = core_.ctx();
  if (!sc.key_store || !sc.key_thread) {
    Finish(r, Status::FailedPrecondition("API keys cannot be changed: no key store"));
    return r;
  }
  auth::MintKeyArgs args{.role = *role,
                         .scope = scope,
                         .label = req->label(),
                         .created_at_ns = core_.now_ns(),
                         .created_by = key->key_id,
                         .expires_at_ns = req->expires_at_ns()};
  core_.OnWriter(r, [r, reply, args, caller = *key, req_id = *request, sc](const Ledger& l) {
    // The scope's objects must exist; its bank is the authorization target.
    if (args.scope.kind == auth::ScopeKind::kBank && !l.FindBank(BankId(args.scope.id))) {
      return Finish(r, Status::InvalidArgument("scope.id: no such bank"));
    }
    if (args.scope.kind == auth::ScopeKind::kAccount && !l.FindAccount(AccountId(args.scope.id))) {
      return Finish(r, Status::InvalidArgument("scope.id: no such account"));
    }
    if (args.scope.kind == auth::ScopeKind::kTerminal && !l.FindKiosk(KioskId(args.scope.id))) {
      return Finish(r, Status::InvalidArgument("scope.id: no such kiosk (RegisterKiosk first)"));
    }
    const auth::Target t = KeyScopeTarget(l, args.scope);
    if (auth::Decision d = auth::Authorize(caller, kCreateApiKey, t); !d.allowed()) {
      return Finish(r, d.status());
    }
    const bool posted = sc.key_thread->Post([r, reply, args, req_id, sc] {
      for (int attempt = 0; attempt < 4; ++attempt) {  // a random key id may collide
        Result<auth::MintedKey> minted = auth::MintKey(args);
        if (!minted.ok()) return Finish(r, minted.status());
        Result<std::optional<auth::KeyRecord>> prior = sc.key_store->Insert(minted->record, req_id);
        if (!prior.ok() && prior.status().code() == StatusCode::kAlreadyExists) continue;
        if (!prior.ok()) return Finish(r, prior.status());
        if (*prior) {  // a retry of a committed request: no token (only its hash was kept)
          const auth::KeyRecord& k = **prior;
          const bool same = k.role == args.role && k.scope == args.scope && k.label == args.label &&
                            k.expires_at_ns == args.expires_at_ns;
          reply->set_reason(same ? v1::REASON_EXISTS : v1::REASON_EXISTS_WITH_DIFFERENT_FIELDS);
          reply->set_detail(same ? "" : "role, scope, label or expires_at_ns");
          reply->set_timestamp_ns(k.created_at_ns);
          reply->set_key_id(k.key_id.value());
          return Finish(r, Status::Ok());
        }
        if (Status s = sc.keys->Add(minted->record); !s.ok()) return Finish(r, s);
        reply->set_reason(v1::REASON_OK);
        reply->set_timestamp_ns(minted->record.created_at_ns);
        reply->set_key_id(minted->record.key_id.value());
        reply->set_token(minted->token);
        return Finish(r, Status::Ok());
      }
      Finish(r, Status::Internal("could not draw a free key id"));
    });
    if (!posted) Finish(r, Status::Unavailable("server stopping"));
  });
  return r;
}

ServerUnaryReactor* SetupServiceImpl::RevokeApiKey(CallbackServerContext* ctx,
                                                   const v1::RevokeApiKeyRequest* req,
                                                   v1::RevokeApiKeyReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  if (Status s = api::CheckFieldLimits(*req); !s.ok()) {
    Finish(r, s);
    return r;
  }
  if (Result<RequestId> id = api::ParseRequestId(req->request_id(), "request_id"); !id.ok()) {
    Finish(r, id.status());
    return r;
  }
  if (req->key_id() == 0) {
    Finish(r, Status::InvalidArgument("key_id: must be non-zero"));
    return r;
  }
  const ServiceContext& sc = core_.ctx();
  if (!sc.key_store || !sc.key_thread) {
    Finish(r, Status::FailedPrecondition("API keys cannot be changed: no key store"));
    return r;
  }
  const auth::KeyId target_id(req->key_id());
  std::optional<auth::KeyRecord> target = sc.keys->Find(target_id);
  if (!target) {
    Finish(r, Status::NotFound("key_id: no such API key"));
    return r;
  }
  const uint64_t now = core_.now_ns();
  core_.OnWriter(r, [r, reply, caller = *key, target = *target, now, actor = req->actor(),
                     why = req->reason(), sc](const Ledger& l) {
    const auth::Target t = KeyScopeTarget(l, target.scope);
    if (auth::Decision d = auth::Authorize(caller, kRevokeApiKey, t); !d.allowed()) {
      return Finish(r, d.status());
    }
    const bool posted = sc.key_thread->Post([r, reply, id = target.key_id, now, actor, why, sc] {
      if (Status s = sc.key_store->Revoke(id, now, actor, why); !s.ok()) return Finish(r, s);
      if (Status s = sc.keys->Revoke(id, now, actor, why); !s.ok()) return Finish(r, s);
      reply->set_reason(v1::REASON_OK);
      reply->set_timestamp_ns(sc.keys->Find(id)->revoked_at_ns);
      Finish(r, Status::Ok());
    });
    if (!posted) Finish(r, Status::Unavailable("server stopping"));
  });
  return r;
}

ServerUnaryReactor* SetupServiceImpl::ListApiKeys(CallbackServerContext* ctx,
                                                  const v1::ListApiKeysRequest* req,
                                                  v1::ListApiKeysReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  const Result<uint32_t> size = PageSize(req->page_size());
  const Result<uint64_t> after = PageAfter(req->page_token());
  if (!size.ok() || !after.ok()) {
    Finish(r, size.ok() ? after.status() : size.status());
    return r;
  }
  const uint64_t bank = req->bank_id();
  core_.Query(
      r, *key, kListApiKeys, [bank](const Ledger&) { return BankTarget(BankId(bank)); },
      [bank, n = *size, after = *after, include_revoked = req->include_revoked(), reply,
       keys = core_.ctx().keys](const Ledger& l) {
        for (const auth::KeyRecord& k : keys->List()) {
          if (k.key_id.value() <= after) continue;
          if (!include_revoked && k.revoked()) continue;
          if (bank != 0 && KeyScopeTarget(l, k.scope).bank.value() != bank) continue;
          if (static_cast<uint32_t>(reply->keys_size()) == n) {
            reply->set_next_page_token(std::to_string(reply->keys(n - 1).key_id()));
            break;
          }
          ToProto(k, reply->add_keys());
        }
        return Status::Ok();
      });
  return r;
}

}  // namespace ayni::server::service
