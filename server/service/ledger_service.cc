// LedgerService: Pay, BatchPay, GetAccount, ListAccounts.
#include <charconv>
#include <string>
#include <vector>

#include "server/api/convert.h"
#include "server/service/services.h"

namespace ayni::server::service {
namespace {

constexpr std::string_view kPay = "/ayni.v1.LedgerService/Pay";
constexpr std::string_view kBatchPay = "/ayni.v1.LedgerService/BatchPay";
constexpr std::string_view kGetAccount = "/ayni.v1.LedgerService/GetAccount";
constexpr std::string_view kListAccounts = "/ayni.v1.LedgerService/ListAccounts";
constexpr std::string_view kStatement = "/ayni.v1.LedgerService/Statement";

bool CrossBank(const Ledger& l, AccountId from, AccountId to) {
  const Account* a = l.FindAccount(from);
  const Account* b = l.FindAccount(to);
  return a && b && a->bank != b->bank;
}

std::string Bytes(const RequestId& id) { return std::string(id.bytes().begin(), id.bytes().end()); }

// A statement page token names the request it continues and the last entry returned:
// "s1.<account>.<since>.<until>.<batch>.<ord>".
std::string StatementToken(const StatementQuery& q, const StatementRow& last) {
  return "s1." + std::to_string(q.account.value()) + "." + std::to_string(q.since_ns) + "." +
         std::to_string(q.until_ns) + "." + std::to_string(last.batch) + "." +
         std::to_string(last.ord);
}

// Fills q.after_batch / q.after_ord from `token` (empty: from the start).
Status ParseStatementToken(const std::string& token, StatementQuery& q) {
  if (token.empty()) return Status::Ok();
  const Status bad = Status::InvalidArgument(
      "page_token: not a token from a previous reply for this account and time window");
  if (!token.starts_with("s1.")) return bad;
  uint64_t v[5] = {};
  const char* p = token.data() + 3;
  const char* end = token.data() + token.size();
  for (int i = 0; i < 5; ++i) {
    const auto [next, ec] = std::from_chars(p, end, v[i]);
    if (ec != std::errc() || next == p) return bad;
    p = next;
    if (i < 4) {
      if (p == end || *p != '.') return bad;
      ++p;
    }
  }
  if (p != end || v[0] != q.account.value() || v[1] != q.since_ns || v[2] != q.until_ns ||
      v[4] > static_cast<uint64_t>(INT32_MAX)) {
    return bad;
  }
  q.after_batch = v[3];
  q.after_ord = static_cast<int64_t>(v[4]);
  return Status::Ok();
}

}  // namespace

Result<uint32_t> PageSize(uint32_t page_size) {
  if (page_size == 0) return 100u;
  if (page_size > 1000) return Status::InvalidArgument("page_size: at most 1000");
  return page_size;
}

Result<uint64_t> PageAfter(const std::string& token) {
  if (token.empty()) return uint64_t{0};
  uint64_t v = 0;
  const auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
  if (ec != std::errc() || p != token.data() + token.size()) {
    return Status::InvalidArgument("page_token: not a token from a previous reply");
  }
  return v;
}

ServerUnaryReactor* LedgerServiceImpl::Pay(CallbackServerContext* ctx, const v1::PayRequest* req,
                                           v1::PayReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  Result<PayCmd> cmd = api::ToCommand(*req);
  if (!cmd.ok()) {
    Finish(r, cmd.status());
    return r;
  }
  const PayCmd c = *cmd;
  core_.Change(
      r, *key, kPay, [c](const Ledger& l) { return std::vector{AccountTarget(l, c.from)}; }, {c},
      [c, reply](const Ledger& l, const std::vector<CommandResult>& rs) {
        const OpResult& o = rs[0].result;
        if (Status s = api::StatusOf(o); !s.ok()) return s;
        FillOutcome(o, reply);
        api::AddTransferIds(c.request, o, reply->mutable_transfer_ids());
        reply->set_cross_bank(o.ok() && CrossBank(l, c.from, c.to));
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* LedgerServiceImpl::BatchPay(CallbackServerContext* ctx,
                                                const v1::BatchPayRequest* req,
                                                v1::BatchPayReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  Result<std::vector<PayCmd>> cmds = api::ToCommands(*req);
  if (!cmds.ok()) {
    Finish(r, cmds.status());
    return r;
  }
  auto pays = std::make_shared<const std::vector<PayCmd>>(std::move(cmds).value());
  std::vector<Command> commands(pays->begin(), pays->end());
  core_.Change(
      r, *key, kBatchPay,
      [pays](const Ledger& l) {
        std::vector<auth::Target> t;
        t.reserve(pays->size());
        for (const PayCmd& p : *pays) t.push_back(AccountTarget(l, p.from));
        return t;
      },
      std::move(commands),
      [pays, reply](const Ledger& l, const std::vector<CommandResult>& rs) {
        uint32_t committed = 0;
        for (size_t i = 0; i < rs.size(); ++i) {
          const OpResult& o = rs[i].result;
          const PayCmd& p = (*pays)[i];
          v1::PaymentResult* out = reply->add_results();
          out->set_reason(api::ReasonOf(o.outcome));
          out->set_detail(o.detail);
          out->set_timestamp_ns(o.timestamp_ns);
          out->set_request_id(Bytes(p.request));
          out->set_legs(o.ok() ? o.legs : 0);
          out->set_cross_bank(o.ok() && CrossBank(l, p.from, p.to));
          if (o.ok()) ++committed;
        }
        reply->set_reason(v1::REASON_OK);
        reply->set_committed(committed);
        reply->set_refused(static_cast<uint32_t>(rs.size()) - committed);
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* LedgerServiceImpl::GetAccount(CallbackServerContext* ctx,
                                                  const v1::GetAccountRequest* req,
                                                  v1::GetAccountReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  if (req->account_id() == 0) {
    Finish(r, Status::InvalidArgument("account_id: must be non-zero"));
    return r;
  }
  const AccountId id(req->account_id());
  core_.Query(
      r, *key, kGetAccount, [id](const Ledger& l) { return AccountTarget(l, id); },
      [id, reply](const Ledger& l) {
        const Account* a = l.FindAccount(id);
        if (!a) return Status::NotFound("account " + std::to_string(id.value()) + ": unknown");
        api::ToProto(*a, l, reply->mutable_account());
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* LedgerServiceImpl::ListAccounts(CallbackServerContext* ctx,
                                                    const v1::ListAccountsRequest* req,
                                                    v1::ListAccountsReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  const Result<uint32_t> size = PageSize(req->page_size());
  const Result<uint64_t> after = PageAfter(req->page_token());
  if (!size.ok() || !after.ok()) {
    Finish(r, size.ok() ? after.status() : size.status());
    return r;
  }
  const v1::ListAccountsRequest q = *req;
  core_.Query(
      r, *key, kListAccounts,
      [q](const Ledger& l) {
        // The bank whose data is read: the filter's bank, else the member's bank.
        if (q.bank_id() != 0) return BankTarget(BankId(q.bank_id()));
        if (q.member_id() != 0) return MemberTarget(l, MemberId(q.member_id()));
        return auth::Target{};
      },
      [q, n = *size, after = *after, reply](const Ledger& l) {
        if (q.bank_id() != 0 && q.member_id() != 0) {
          const Member* m = l.FindMember(MemberId(q.member_id()));
          if (m && m->bank.value() != q.bank_id()) return Status::Ok();  // nothing matches
        }
        for (const Account& a : l.accounts()) {
          if (a.id.value() <= after) continue;
          if (q.bank_id() != 0 && a.bank.value() != q.bank_id()) continue;
          if (q.member_id() != 0 && a.owner.value() != q.member_id()) continue;
          if (q.currency_id() != 0 && a.currency.value() != q.currency_id()) continue;
          if (!q.include_closed() && a.status == AccountStatus::kClosed) continue;
          if (static_cast<uint32_t>(reply->accounts_size()) == n) {
            reply->set_next_page_token(
                std::to_string(reply->accounts(reply->accounts_size() - 1).account_id()));
            break;
          }
          api::ToProto(a, l, reply->add_accounts());
        }
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* LedgerServiceImpl::Statement(CallbackServerContext* ctx,
                                                 const v1::StatementRequest* req,
                                                 v1::StatementReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  if (req->account_id() == 0) {
    Finish(r, Status::InvalidArgument("account_id: must be non-zero"));
    return r;
  }
  if (req->until_ns() != 0 && req->since_ns() > req->until_ns()) {
    Finish(r, Status::InvalidArgument("since_ns: after until_ns"));
    return r;
  }
  if (req->since_ns() > static_cast<uint64_t>(INT64_MAX) ||
      req->until_ns() > static_cast<uint64_t>(INT64_MAX)) {
    Finish(r, Status::InvalidArgument("since_ns/until_ns: beyond the year 2262"));
    return r;
  }
  const Result<uint32_t> size = PageSize(req->page_size());
  if (!size.ok()) {
    Finish(r, size.status());
    return r;
  }
  StatementQuery q{.account = AccountId(req->account_id()),
                   .since_ns = req->since_ns(),
                   .until_ns = req->until_ns(),
                   .limit = *size + 1};  // one more: is there a next page?
  if (Status s = ParseStatementToken(req->page_token(), q); !s.ok()) {
    Finish(r, s);
    return r;
  }
  TaskThread* thread = core_.ctx().read_thread;
  PgReader* reader = core_.ctx().reader;
  if (thread == nullptr || reader == nullptr) {
    Finish(r, Status::Unavailable("statements need the database reader"));
    return r;
  }
  core_.Authorized(
      r, *key, kStatement, [id = q.account](const Ledger& l) { return AccountTarget(l, id); },
      [r, reply, q, n = *size, thread, reader](const Ledger& l) mutable {
        const Account* a = l.FindAccount(q.account);
        if (!a) {
          Finish(r, Status::NotFound("account " + std::to_string(q.account.value()) +
                                     ": unknown"));
          return;
        }
        api::ToProto(*a, l, reply->mutable_account());
        // Entries up to the head the account's state is at, so the page and the state
        // agree even while later batches commit.
        q.max_batch = l.batch_sequence();
        const bool posted = thread->Post([r, reply, q, n, reader] {
          Result<std::vector<StatementRow>> rows = reader->Statement(q);
          if (!rows.ok()) {
            Finish(r, rows.status());
            return;
          }
          for (size_t i = 0; i < rows->size() && i < n; ++i) {
            const StatementRow& row = (*rows)[i];
            v1::StatementEntry* e = reply->add_entries();
            api::ToProto(row.transfer, row.batch, e->mutable_transfer());
            const bool debited = row.transfer.debit == q.account;
            e->set_counterparty_account_id(debited ? row.transfer.credit.value()
                                                   : row.transfer.debit.value());
            e->set_delta_minor(debited ? -row.transfer.amount.minor()
                                       : row.transfer.amount.minor());
            e->set_balance_after_minor(row.balance_after);
          }
          if (rows->size() > n) reply->set_next_page_token(StatementToken(q, (*rows)[n - 1]));
          Finish(r, Status::Ok());
        });
        if (!posted) Finish(r, Status::Unavailable("the server is stopping"));
      });
  return r;
}

}  // namespace ayni::server::service
