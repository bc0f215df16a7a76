// ayni's commands end to end against fake ayni.v1 services in this process (no database):
// what each command sends (amounts at the currency's scale, request ids, ids resolved from
// codes), what it prints, and its exit code for success, refusal, transport error, audit
// fault and a bad amount. The real server is driven by cli_e2e (when present).
#include "server/cli/runner.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <mutex>
#include <sstream>

#include "ayni/v1/audit.grpc.pb.h"
#include "ayni/v1/clearing.grpc.pb.h"
#include "ayni/v1/ledger.grpc.pb.h"
#include "ayni/v1/reserves.grpc.pb.h"
#include "ayni/v1/setup.grpc.pb.h"
#include "proto/client/output.h"
#include "server/api/signature.h"

namespace ayni::cli {
namespace {

namespace v1 = ::ayni::v1;
constexpr char kToken[] = "ayni_00000000000000aa_SECRETSECRETSECRETSECRETSECRETSECRETSECRET";

// What the fakes saw.
struct Seen {
  std::mutex mu;
  std::vector<std::string> rpcs;
  v1::PayRequest pay;
  v1::CreateCircleRequest circle;
  v1::SetAccountLimitsRequest limits;
  v1::CreateBankRequest bank;
  v1::FundReserveRequest fund;
  v1::CreateApiKeyRequest key;
  void Add(const char* rpc) {
    std::lock_guard<std::mutex> l(mu);
    rpcs.push_back(rpc);
  }
  bool Called(const std::string& rpc) {
    std::lock_guard<std::mutex> l(mu);
    for (const auto& r : rpcs) {
      if (r == rpc) return true;
    }
    return false;
  }
};

grpc::Status CheckAuth(grpc::ServerContext* ctx) {
  auto it = ctx->client_metadata().find("authorization");
  if (it == ctx->client_metadata().end() ||
      std::string(it->second.data(), it->second.size()) != std::string("Bearer ") + kToken) {
    return {grpc::StatusCode::UNAUTHENTICATED, "unknown key ayni_00000000000000bb_…"};
  }
  return grpc::Status::OK;
}

v1::Account MakeAccount(uint64_t id) {
  v1::Account a;
  a.set_account_id(id);
  a.set_bank_id(1);
  a.set_ceiling_minor(INT64_MAX);
  if (id == 7) {
    a.set_currency_code("FEIRA");
    a.set_scale(1000);
    a.set_balance_minor(-2500);
    a.set_credit_limit_minor(10000);
  } else {
    a.set_currency_code("PALMA");
    a.set_scale(100);
    a.set_balance_minor(10000);
  }
  return a;
}

class FakeSetup final : public v1::SetupService::Service {
 public:
  explicit FakeSetup(Seen& s) : seen_(s) {}
  grpc::Status GetDeployment(grpc::ServerContext* ctx, const v1::GetDeploymentRequest*,
                             v1::GetDeploymentReply* rep) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    rep->set_deployed(true);
    rep->set_national_code("BRL");
    rep->set_scale(100);
    return grpc::Status::OK;
  }
  grpc::Status ListBanks(grpc::ServerContext* ctx, const v1::ListBanksRequest*,
                         v1::ListBanksReply* rep) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    auto* a = rep->add_banks();
    a->set_bank_id(1);
    a->set_code("PALMAS");
    a->set_name("Banco Palmas");
    a->add_issued_currency_ids(2);
    auto* b = rep->add_banks();
    b->set_bank_id(2);
    b->set_code("SOL");
    b->set_name("Banco, do Sol");
    return grpc::Status::OK;
  }
  grpc::Status ListCurrencies(grpc::ServerContext* ctx, const v1::ListCurrenciesRequest*,
                              v1::ListCurrenciesReply* rep) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    auto* n = rep->add_currencies();
    n->set_currency_id(1);
    n->set_code("BRL");
    n->set_scale(100);
    auto* p = rep->add_currencies();
    p->set_currency_id(2);
    p->set_code("PALMA");
    p->set_kind(v1::CURRENCY_KIND_GUARANTEED);
    p->set_scale(100);
    p->set_issuer_bank_id(1);
    p->set_coverage_min_bp(10000);
    p->set_redemption_fee_bp(200);
    p->set_default_ceiling_minor(INT64_MAX);
    return grpc::Status::OK;
  }
  grpc::Status CreateBank(grpc::ServerContext* ctx, const v1::CreateBankRequest* req,
                          v1::CreateBankReply* rep) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    seen_.Add("CreateBank");
    seen_.bank = *req;
    if (req->code() == "DUP") {
      rep->set_reason(v1::REASON_CODE_EXISTS);
      rep->set_detail("code");
      return grpc::Status::OK;
    }
    rep->set_bank_id(3);
    return grpc::Status::OK;
  }
  grpc::Status CreateCircle(grpc::ServerContext* ctx, const v1::CreateCircleRequest* req,
                            v1::CreateCircleReply* rep) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    seen_.Add("CreateCircle");
    seen_.circle = *req;
    rep->set_circle_id(1);
    rep->set_currency_id(3);
    return grpc::Status::OK;
  }
  grpc::Status SetAccountLimits(grpc::ServerContext* ctx, const v1::SetAccountLimitsRequest* req,
                                v1::SetAccountLimitsReply*) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    seen_.Add("SetAccountLimits");
    seen_.limits = *req;
    return grpc::Status::OK;
  }
  grpc::Status RevokeApiKey(grpc::ServerContext* ctx, const v1::RevokeApiKeyRequest* req,
                            v1::RevokeApiKeyReply*) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    seen_.Add("RevokeApiKey");
    revoked_key_id_ = req->key_id();
    return {grpc::StatusCode::NOT_FOUND, "key_id: no such API key"};
  }
  uint64_t revoked_key_id_ = 0;
  grpc::Status CreateApiKey(grpc::ServerContext* ctx, const v1::CreateApiKeyRequest* req,
                            v1::CreateApiKeyReply* rep) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    seen_.Add("CreateApiKey");
    seen_.key = *req;
    rep->set_key_id(9);
    rep->set_token("ayni_0000000000000009_NEWTOKENNEWTOKENNEWTOKENNEWTOKENNEWTOKENNEW");
    return grpc::Status::OK;
  }

 private:
  Seen& seen_;
};

class FakeLedger final : public v1::LedgerService::Service {
 public:
  explicit FakeLedger(Seen& s) : seen_(s) {}
  grpc::Status GetAccount(grpc::ServerContext* ctx, const v1::GetAccountRequest* req,
                          v1::GetAccountReply* rep) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    if (req->account_id() > 100) return {grpc::StatusCode::NOT_FOUND, "account 101"};
    *rep->mutable_account() = MakeAccount(req->account_id());
    return grpc::Status::OK;
  }
  grpc::Status ListAccounts(grpc::ServerContext* ctx, const v1::ListAccountsRequest* req,
                            v1::ListAccountsReply* rep) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    if (req->bank_id() == 1) {
      *rep->add_accounts() = MakeAccount(5);
      *rep->add_accounts() = MakeAccount(7);
    }
    return grpc::Status::OK;
  }
  grpc::Status Statement(grpc::ServerContext* ctx, const v1::StatementRequest* req,
                         v1::StatementReply* rep) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    *rep->mutable_account() = MakeAccount(req->account_id());
    // Two pages, to check that the CLI follows next_page_token.
    auto* e = rep->add_entries();
    e->mutable_transfer()->set_code(v1::TRANSFER_CODE_PAYMENT);
    e->mutable_transfer()->set_memo(req->page_token().empty() ? "first, page" : "second");
    e->set_counterparty_account_id(6);
    e->set_delta_minor(req->page_token().empty() ? -1500 : -1000);
    e->set_balance_after_minor(req->page_token().empty() ? -1500 : -2500);
    if (req->page_token().empty()) rep->set_next_page_token("p2");
    return grpc::Status::OK;
  }
  grpc::Status Pay(grpc::ServerContext* ctx, const v1::PayRequest* req,
                   v1::PayReply* rep) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    seen_.Add("Pay");
    seen_.pay = *req;
    if (req->amount_minor() > 10000) {
      rep->set_reason(v1::REASON_INSUFFICIENT_FUNDS);
      rep->set_detail("debit account 5");
      return grpc::Status::OK;
    }
    rep->add_transfer_ids(std::string(16, 'x'));
    return grpc::Status::OK;
  }

 private:
  Seen& seen_;
};

class FakeReserves final : public v1::ReservesService::Service {
 public:
  explicit FakeReserves(Seen& s) : seen_(s) {}
  grpc::Status GetCoverage(grpc::ServerContext* ctx, const v1::GetCoverageRequest* req,
                           v1::GetCoverageReply* rep) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    auto* c = rep->mutable_coverage();
    c->set_bank_id(req->bank_id());
    c->set_bank_code(req->bank_id() == 1 ? "PALMAS" : "SOL");
    const bool under = req->bank_id() == 2 && under_;
    c->set_reserve_minor(under ? 9000 : 10000);
    c->set_assets_minor(under ? 9000 : 10000);
    c->set_supply_minor(10000);
    c->set_required_minor(10000);
    c->set_coverage_ratio_bp(under ? 9000 : 10000);
    c->set_covered(!under);
    auto* cc = c->add_currencies();
    cc->set_code(req->bank_id() == 1 ? "PALMA" : "SOLAR");
    cc->set_supply_minor(10000);
    cc->set_coverage_min_bp(10000);
    cc->set_required_minor(10000);
    return grpc::Status::OK;
  }
  grpc::Status FundReserve(grpc::ServerContext* ctx, const v1::FundReserveRequest* req,
                           v1::FundReserveReply*) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    seen_.Add("FundReserve");
    seen_.fund = *req;
    return grpc::Status::OK;
  }
  bool under_ = false;

 private:
  Seen& seen_;
};

class FakeAudit final : public v1::AuditService::Service {
 public:
  // Two banks; SOL under-covered when under_; tamper_ changes a figure after signing.
  grpc::Status ReserveAudit(grpc::ServerContext* ctx, const v1::ReserveAuditRequest*,
                            v1::ReserveAuditReply* rep) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    for (uint64_t id : {1u, 2u}) {
      const bool under = id == 2 && under_;
      v1::BankAudit* b = rep->add_banks();
      auto* c = b->mutable_coverage();
      c->set_bank_id(id);
      c->set_bank_code(id == 1 ? "PALMAS" : "SOL");
      c->set_reserve_minor(under ? 9000 : 10000);
      c->set_assets_minor(under ? 9000 : 10000);
      c->set_supply_minor(10000);
      c->set_required_minor(10000);
      c->set_covered(!under);
      b->set_required_min_bp(10000);
      b->set_verdict(under ? v1::VERDICT_UNDER_COVERED : v1::VERDICT_COVERED);
      if (under) b->set_detail("assets 90.00 < required 100.00");
    }
    rep->set_verdict(under_ ? v1::VERDICT_UNDER_COVERED : v1::VERDICT_COVERED);
    rep->mutable_head()->set_sequence(9);
    if (signed_) {
      v1::Signature sig;
      rep->clear_signature();
      signer_.Sign(*rep, &sig);
      *rep->mutable_signature() = sig;
    }
    if (tamper_) rep->mutable_banks(0)->mutable_coverage()->set_reserve_minor(99999);
    return grpc::Status::OK;
  }
  grpc::Status VerifyJournal(grpc::ServerContext* ctx, const v1::VerifyJournalRequest*,
                             v1::VerifyJournalReply* rep) override {
    if (auto s = CheckAuth(ctx); !s.ok()) return s;
    rep->set_batches(12);
    rep->set_ok(!broken_);
    if (broken_) {
      auto* f = rep->add_journal_faults();
      f->set_kind(v1::JOURNAL_FAULT_HASH_MISMATCH);
      f->set_batch_sequence(7);
      f->set_detail("hash_mismatch: stored hash differs");
    }
    return grpc::Status::OK;
  }
  bool broken_ = false;
  bool under_ = false;
  bool signed_ = true;
  bool tamper_ = false;
  server::api::Signer signer_ = server::api::Signer::Ephemeral("clearing");
};

class RunnerTest : public ::testing::Test {
 protected:
  RunnerTest() : setup_(seen_), ledger_(seen_), reserves_(seen_) {
    grpc::ServerBuilder b;
    b.RegisterService(&setup_);
    b.RegisterService(&ledger_);
    b.RegisterService(&reserves_);
    b.RegisterService(&audit_);
    server_ = b.BuildAndStart();
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
  }
  ~RunnerTest() override { server_->Shutdown(); }

  // Runs `ayni <line>` (split on spaces; use args for spaces inside an argument).
  int Run(const std::vector<std::string>& args, std::string token = kToken) {
    out_.str("");
    err_.str("");
    auto inv = ParseArgs(args, "");
    EXPECT_TRUE(inv.ok()) << inv.status().message();
    if (!inv.ok()) return kExitUsage;
    RunContext ctx;
    ctx.channel = channel_;
    ctx.token = std::move(token);
    ctx.global = inv->global;
    ctx.out = &out_;
    ctx.err = &err_;
    ctx.fresh_request_id = [] {
      RequestIdBytes b{};
      b[15] = 0x2a;
      return b;
    };
    const int code = RunCommand(inv->command, ctx);
    // The caller's key never appears in any output.
    EXPECT_EQ(out_.str().find("SECRET"), std::string::npos) << out_.str();
    EXPECT_EQ(err_.str().find("SECRET"), std::string::npos) << err_.str();
    return code;
  }
  int Run(const std::string& line) {
    std::vector<std::string> args;
    std::istringstream is(line);
    std::string w;
    while (is >> w) args.push_back(w);
    return Run(args);
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

  static google::protobuf::Struct Json(const std::string& s) {
    google::protobuf::Struct st;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(s, &st).ok()) << s;
    return st;
  }

  Seen seen_;
  FakeSetup setup_;
  FakeLedger ledger_;
  FakeReserves reserves_;
  FakeAudit audit_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(RunnerTest, PayParsesAtThePayersScaleAndShowsTheCurrency) {
  EXPECT_EQ(Run("pay 5 6 30.5 --memo pão"), kExitOk) << err();
  EXPECT_EQ(seen_.pay.amount_minor(), 3050);
  EXPECT_EQ(seen_.pay.from_account_id(), 5u);
  EXPECT_EQ(seen_.pay.to_account_id(), 6u);
  EXPECT_EQ(seen_.pay.memo(), "pão");
  EXPECT_EQ(seen_.pay.request_id(), std::string(15, '\0') + "\x2a");
  EXPECT_NE(out().find("30.50 PALMA"), std::string::npos) << out();
  EXPECT_NE(out().find("0000000000000000000000000000002a"), std::string::npos) << out();
  EXPECT_NE(out().find("request id:"), std::string::npos);
}

TEST_F(RunnerTest, RequestIdOptionIsSentAsGiven) {
  EXPECT_EQ(Run("pay 5 6 1 --request-id ffeeddccbbaa99887766554433221100"), kExitOk);
  EXPECT_EQ(seen_.pay.request_id(),
            std::string("\xff\xee\xdd\xcc\xbb\xaa\x99\x88\x77\x66\x55\x44\x33\x22\x11\x00", 16));
}

TEST_F(RunnerTest, TooManyDecimalsForTheCurrencyIsAUsageErrorAndNothingIsSent) {
  EXPECT_EQ(Run("pay 5 6 1.005"), kExitUsage);
  EXPECT_NE(err().find("has 3 decimal places; PALMA has 2"), std::string::npos) << err();
  EXPECT_FALSE(seen_.Called("Pay"));
  // Scale 1000 (account 7 is FEIRA): three decimals fit, four do not.
  EXPECT_EQ(Run("account limits 7 --credit-limit 12.345 --actor a --reason r"), kExitOk);
  EXPECT_EQ(seen_.limits.credit_limit_minor(), 12345);
  EXPECT_FALSE(seen_.limits.has_ceiling_minor());
  EXPECT_EQ(Run("account limits 7 --credit-limit 1.2345 --actor a --reason r"), kExitUsage);
  EXPECT_EQ(Run("pay 5 6 0"), kExitUsage);
}

TEST_F(RunnerTest, BusinessRefusalExitsTwoNamingTheReason) {
  EXPECT_EQ(Run("pay 5 6 100.01"), kExitRefused);
  EXPECT_NE(err().find("refused: REASON_INSUFFICIENT_FUNDS: debit account 5"), std::string::npos)
      << err();
  EXPECT_EQ(Run({"bank", "create", "DUP", "Duplicate"}), kExitRefused);
  EXPECT_NE(err().find("REASON_CODE_EXISTS"), std::string::npos);
}

TEST_F(RunnerTest, JsonOutputIsOneValidObject) {
  EXPECT_EQ(Run("--json pay 5 6 100.01"), kExitRefused);
  auto j = Json(out());
  EXPECT_EQ(j.fields().at("reason").string_value(), "REASON_INSUFFICIENT_FUNDS");
  EXPECT_EQ(j.fields().at("exit_code").number_value(), 2);
  EXPECT_EQ(j.fields().at("request_id").string_value(), "0000000000000000000000000000002a");

  EXPECT_EQ(Run("--json pay 5 6 2"), kExitOk);
  j = Json(out());
  EXPECT_EQ(j.fields().at("shown").struct_value().fields().at("amount").string_value(),
            "2.00 PALMA");
  EXPECT_EQ(j.fields().at("reply").struct_value().fields().at("reason").string_value(),
            "REASON_OK");

  EXPECT_EQ(Run("--json bank list"), kExitOk);
  j = Json(out());
  EXPECT_EQ(j.fields().at("reply").struct_value().fields().at("banks").list_value().values_size(),
            2);
  EXPECT_EQ(Run("--json account show 101"), kExitTransport);
  j = Json(out());
  EXPECT_EQ(j.fields().at("error").struct_value().fields().at("code").string_value(), "NOT_FOUND");
}

TEST_F(RunnerTest, TransportErrorsExitThreeWithTheGrpcCode) {
  EXPECT_EQ(Run({"bank", "list"}, "ayni_00000000000000bb_WRONGWRONG"), kExitTransport);
  EXPECT_NE(err().find("UNAUTHENTICATED"), std::string::npos) << err();
  EXPECT_EQ(err().find("WRONGWRONG"), std::string::npos) << err();
  EXPECT_EQ(Run("account show 101"), kExitTransport);
  EXPECT_NE(err().find("GetAccount: NOT_FOUND"), std::string::npos) << err();

  // Nobody listening: UNAVAILABLE, and a sent state change offers its exact retry.
  auto inv = ParseArgs({"--timeout", "2", "bank", "create", "X", "Y"}, "");
  ASSERT_TRUE(inv.ok());
  RunContext ctx;
  ctx.channel = grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
  ctx.token = kToken;
  ctx.global = inv->global;
  ctx.out = &out_;
  ctx.err = &err_;
  ctx.fresh_request_id = [] { return RequestIdBytes{1}; };
  err_.str("");
  EXPECT_EQ(RunCommand(inv->command, ctx), kExitTransport);
  EXPECT_NE(err().find("UNAVAILABLE"), std::string::npos) << err();
  EXPECT_NE(err().find("--request-id 01000000000000000000000000000000"), std::string::npos)
      << err();
}

TEST_F(RunnerTest, CodesResolveToIdsAndUnknownCodesAreRefused) {
  EXPECT_EQ(Run({"circle", "create", "SOL", "FEIRA", "Feira", "--credit-limit", "2.5", "--scale",
                 "1000"}),
            kExitOk)
      << err();
  EXPECT_EQ(seen_.circle.bank_id(), 2u);
  EXPECT_EQ(seen_.circle.scale(), 1000);
  EXPECT_EQ(seen_.circle.default_credit_limit_minor(), 2500);
  EXPECT_EQ(Run("fund-reserve PALMAS 2000 --from-fees"), kExitOk) << err();
  EXPECT_EQ(seen_.fund.bank_id(), 1u);
  EXPECT_EQ(seen_.fund.amount_minor(), 200000);
  EXPECT_EQ(seen_.fund.source(), v1::FUND_SOURCE_FEES);
  EXPECT_NE(out().find("2000.00 BRL"), std::string::npos) << out();
  EXPECT_EQ(Run("fund-reserve NOPE 1"), kExitRefused);
  EXPECT_NE(err().find("REASON_BANK_NOT_FOUND"), std::string::npos);
  EXPECT_FALSE(seen_.Called("CreateBank"));
}

TEST_F(RunnerTest, ListsAsTablesAndCsv) {
  EXPECT_EQ(Run("bank list"), kExitOk);
  EXPECT_EQ(out(),
            "ID  CODE    NAME           CURRENCIES\n"
            " 1  PALMAS  Banco Palmas   PALMA\n"
            " 2  SOL     Banco, do Sol  -\n");
  EXPECT_EQ(Run("--csv bank list"), kExitOk);
  EXPECT_EQ(out(),
            "ID,CODE,NAME,CURRENCIES\n"
            "1,PALMAS,Banco Palmas,PALMA\n"
            "2,SOL,\"Banco, do Sol\",-\n");
  EXPECT_EQ(Run("account list --bank PALMAS"), kExitOk);
  EXPECT_NE(out().find("100.00"), std::string::npos) << out();
  EXPECT_NE(out().find("-2.500"), std::string::npos) << out();  // FEIRA at scale 1000
}

TEST_F(RunnerTest, AuditReservesChecksTheSignatureAndFailsWhenUnderCovered) {
  EXPECT_EQ(Run("audit reserves"), kExitOk) << err();
  EXPECT_NE(out().find("signed by clearing key " + audit_.signer_.public_key_hex()),
            std::string::npos)
      << out();
  EXPECT_NE(out().find("every bank COVERED"), std::string::npos);
  audit_.tamper_ = true;
  EXPECT_EQ(Run("audit reserves"), kExitAuditFault);
  EXPECT_NE(err().find("FAULT: the audit's figures differ from the ones its signature covers"),
            std::string::npos)
      << err();
  audit_.tamper_ = false;
  audit_.signed_ = false;
  EXPECT_EQ(Run("audit reserves"), kExitAuditFault);
  EXPECT_NE(err().find("FAULT: the audit is not signed"), std::string::npos) << err();
  audit_.signed_ = true;
  audit_.under_ = true;
  EXPECT_EQ(Run("audit reserves"), kExitAuditFault);
  EXPECT_NE(err().find("FAULT: SOL under-covered: assets 90.00 < required 100.00"),
            std::string::npos)
      << err();
  EXPECT_EQ(Run("--json audit reserves"), kExitAuditFault);
  auto j = Json(out());
  EXPECT_EQ(j.fields().at("verdict").string_value(), "UNDER_COVERED");
  EXPECT_EQ(j.fields().at("faults").list_value().values_size(), 1);
}

TEST_F(RunnerTest, AuditJournalFailsNamingTheFault) {
  EXPECT_EQ(Run("audit journal"), kExitOk);
  EXPECT_NE(out().find("verdict:"), std::string::npos);
  audit_.broken_ = true;
  EXPECT_EQ(Run("audit journal"), kExitAuditFault);
  EXPECT_NE(err().find("FAULT: JOURNAL_FAULT_HASH_MISMATCH batch 7"), std::string::npos) << err();
}

TEST_F(RunnerTest, StatementFollowsPagesAtTheAccountsScale) {
  EXPECT_EQ(Run("--csv account statement 7"), kExitOk) << err();
  EXPECT_EQ(out(),
            "TIME,BATCH,CODE,COUNTERPARTY,AMOUNT,BALANCE,MEMO\n"
            "-,0,PAYMENT,6,-1.500,-1.500,\"first, page\"\n"
            "-,0,PAYMENT,6,-1.000,-2.500,second\n");
  EXPECT_EQ(Run("account statement 7"), kExitOk);
  EXPECT_NE(out().find("balance -2.500 FEIRA"), std::string::npos) << out();
}

TEST_F(RunnerTest, ARefusedStateChangeSaysNothingWasWritten) {
  EXPECT_EQ(Run("key revoke ayni_00000000000000ff_ --actor a --reason r"), kExitTransport);
  EXPECT_EQ(setup_.revoked_key_id_, 255u);
  EXPECT_NE(err().find("RevokeApiKey: NOT_FOUND: key_id: no such API key"), std::string::npos)
      << err();
  EXPECT_NE(err().find("(nothing was written)"), std::string::npos) << err();
  EXPECT_EQ(err().find("outcome is unknown"), std::string::npos) << err();
}

TEST_F(RunnerTest, UnimplementedRpcIsATransportErrorNamingIt) {
  EXPECT_EQ(Run("clearing list"), kExitTransport);
  EXPECT_NE(err().find("ListCycles: UNIMPLEMENTED"), std::string::npos) << err();
  EXPECT_NE(err().find("does not serve ListCycles"), std::string::npos) << err();
}

TEST_F(RunnerTest, KeyCreateResolvesABankCodeAndShowsTheNewTokenOnce) {
  EXPECT_EQ(Run({"key", "create", "teller", "bank", "SOL", "caixa 1"}), kExitOk) << err();
  EXPECT_EQ(seen_.key.role(), v1::ROLE_TELLER);
  EXPECT_EQ(seen_.key.scope().kind(), v1::SCOPE_KIND_BANK);
  EXPECT_EQ(seen_.key.scope().id(), 2u);
  EXPECT_EQ(seen_.key.label(), "caixa 1");
  EXPECT_NE(out().find("NEWTOKEN"), std::string::npos);
}

}  // namespace
}  // namespace ayni::cli
