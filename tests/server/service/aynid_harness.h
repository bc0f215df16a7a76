// Shared by the aynid integration tests: the real binary (AYNID_PATH) as a child process
// on 127.0.0.1 port 0 against a fresh database made from AYNI_TEST_PG, driven through
// real gRPC channels. Without AYNI_TEST_PG every test FAILS (never skips).
#pragma once

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <vector>

#include "ayni/v1/audit.grpc.pb.h"
#include "ayni/v1/clearing.grpc.pb.h"
#include "ayni/v1/ledger.grpc.pb.h"
#include "ayni/v1/reserves.grpc.pb.h"
#include "ayni/v1/setup.grpc.pb.h"

namespace ayni::test_support {

// A child aynid with its stdout on a pipe (stderr inherited, for the test log).
class Aynid {
 public:
  // `extra`: more flags for aynid (e.g. --clearing-key-file PATH).
  Aynid(const std::string& dsn, const std::string& key_file,
        const std::vector<std::string>& extra = {}) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<std::string> args = {AYNID_PATH, "--pg-dsn",         dsn,
                                       "--listen", "127.0.0.1:0", "--admin-key-file",
                                       key_file};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(AYNID_PATH, argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~Aynid() {
    Kill(SIGKILL);
    if (out_ >= 0) ::close(out_);
  }
  // Waits (up to timeout_s, a generous bound, not a sleep) for a stdout line starting
  // with `prefix`; returns the rest of the line, or nullopt.
  std::optional<std::string> WaitLine(const std::string& prefix, int timeout_s = 60) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    for (;;) {
      for (size_t nl; (nl = buf_.find('\n')) != std::string::npos;) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char b[512];
      const ssize_t n = ::read(out_, b, sizeof b);
      if (n <= 0) return std::nullopt;
      buf_.append(b, static_cast<size_t>(n));
    }
  }
  // The address from `aynid: listening on 127.0.0.1:PORT`.
  std::string WaitListening(int timeout_s = 60) {
    auto rest = WaitLine("aynid: listening on ", timeout_s);
    return rest ? *rest : "";
  }
  // Sends `sig` and reaps the process; its wait status (-1 when already reaped).
  int Kill(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return st;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buf_;
};

inline std::string NewId() {
  thread_local std::mt19937_64 rng(std::random_device{}());  // tests call it from many threads
  std::string s(16, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  s[0] = 1;  // never all zero
  return s;
}

class Client {
 public:
  Client(const std::string& addr, std::string token) : token_(std::move(token)) {
    auto ch = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
    setup = v1::SetupService::NewStub(ch);
    ledger = v1::LedgerService::NewStub(ch);
    reserves = v1::ReservesService::NewStub(ch);
    clearing = v1::ClearingService::NewStub(ch);
    audit = v1::AuditService::NewStub(ch);
  }
  std::unique_ptr<grpc::ClientContext> Ctx() const {
    auto c = std::make_unique<grpc::ClientContext>();
    if (!token_.empty()) c->AddMetadata("authorization", "Bearer " + token_);
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return c;
  }
  std::unique_ptr<v1::SetupService::Stub> setup;
  std::unique_ptr<v1::LedgerService::Stub> ledger;
  std::unique_ptr<v1::ReservesService::Stub> reserves;
  std::unique_ptr<v1::ClearingService::Stub> clearing;
  std::unique_ptr<v1::AuditService::Stub> audit;

 private:
  std::string token_;
};

#define RPC(client, service, method, req, reply) \
  (client).service->method((client).Ctx().get(), (req), &(reply))

class AynidFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("AYNI_TEST_PG");
    ASSERT_TRUE(base != nullptr && *base != '\0')
        << "AYNI_TEST_PG is not set. Run ./deploy/test.sh, or: deploy/pg.sh start DIR && "
           "export AYNI_TEST_PG=\"$(deploy/pg.sh dsn DIR)\"";
    base_ = base;
    static int counter = 0;
    db_ = "ayni_svc_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    Admin("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
    Admin("CREATE DATABASE " + db_);
    dsn_ = base_ + " dbname=" + db_;
    char dir[] = "/tmp/aynid_test_XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    key_file_ = dir_ + "/admin.key";
  }
  void TearDown() override {
    if (!db_.empty()) Admin("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
    ::unlink(key_file_.c_str());
    ::rmdir(dir_.c_str());
  }
  void Admin(const std::string& sql) {
    pqxx::connection c(base_);
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  }
  int64_t Count(const std::string& table) {
    pqxx::connection c(dsn_);
    pqxx::nontransaction tx(c);
    return tx.exec("SELECT count(*) FROM " + table)[0][0].as<int64_t>();
  }
  std::string ReadKey() {
    std::ifstream f(key_file_);
    std::string token;
    std::getline(f, token);
    return token;
  }
  std::string base_, db_, dsn_, dir_, key_file_;
};

// Asserts inside helpers that return values.
#define AYNI_EXPECT_OK(call)                                         \
  do {                                                               \
    const grpc::Status s_ = (call);                                  \
    EXPECT_TRUE(s_.ok()) << #call << ": " << s_.error_message();     \
  } while (0)

// A deployment in BRL with two banks (PALMAS and BEM), one guaranteed currency each, and
// `members` member accounts per bank, each issued `deposit` minor units.
struct SmallNetwork {
  uint64_t bank_a = 0, bank_b = 0, cur_a = 0, cur_b = 0;
  std::vector<uint64_t> a, b;  // member accounts of bank A and of bank B
};

inline SmallNetwork BuildNetwork(Client& admin, int members, int64_t deposit) {
  SmallNetwork n;
  v1::InitDeploymentRequest init;
  init.set_request_id(NewId());
  init.set_national_code("BRL");
  init.set_scale(100);
  v1::InitDeploymentReply init_rep;
  AYNI_EXPECT_OK(RPC(admin, setup, InitDeployment, init, init_rep));
  auto bank = [&](const std::string& code) {
    v1::CreateBankRequest q;
    q.set_request_id(NewId());
    q.set_code(code);
    q.set_name("Banco " + code);
    v1::CreateBankReply rep;
    AYNI_EXPECT_OK(RPC(admin, setup, CreateBank, q, rep));
    return rep.bank_id();
  };
  auto currency = [&](uint64_t b, const std::string& code) {
    v1::CreateCurrencyRequest q;
    q.set_request_id(NewId());
    q.set_bank_id(b);
    q.set_code(code);
    v1::CreateCurrencyReply rep;
    AYNI_EXPECT_OK(RPC(admin, setup, CreateCurrency, q, rep));
    return rep.currency_id();
  };
  auto account = [&](uint64_t b, uint64_t cur, const std::string& name) {
    v1::CreateMemberRequest m;
    m.set_request_id(NewId());
    m.set_bank_id(b);
    m.set_name(name);
    v1::CreateMemberReply mr;
    AYNI_EXPECT_OK(RPC(admin, setup, CreateMember, m, mr));
    v1::OpenAccountRequest o;
    o.set_request_id(NewId());
    o.set_member_id(mr.member_id());
    o.set_currency_id(cur);
    v1::OpenAccountReply orep;
    AYNI_EXPECT_OK(RPC(admin, setup, OpenAccount, o, orep));
    v1::IssueRequest q;
    q.set_request_id(NewId());
    q.set_account_id(orep.account_id());
    q.set_amount_minor(deposit);
    v1::IssueReply rep;
    AYNI_EXPECT_OK(RPC(admin, reserves, Issue, q, rep));
    EXPECT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
    return orep.account_id();
  };
  n.bank_a = bank("PALMAS");
  n.bank_b = bank("BEM");
  n.cur_a = currency(n.bank_a, "PALMA");
  n.cur_b = currency(n.bank_b, "BEMS");
  for (int i = 0; i < members; ++i) {
    n.a.push_back(account(n.bank_a, n.cur_a, "A" + std::to_string(i)));
    n.b.push_back(account(n.bank_b, n.cur_b, "B" + std::to_string(i)));
  }
  return n;
}

inline int64_t BalanceOf(Client& c, uint64_t account) {
  v1::GetAccountRequest g;
  g.set_account_id(account);
  v1::GetAccountReply rep;
  AYNI_EXPECT_OK(RPC(c, ledger, GetAccount, g, rep));
  return rep.account().balance_minor();
}

}  // namespace ayni::test_support
