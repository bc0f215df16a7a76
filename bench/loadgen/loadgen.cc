// ayni-loadgen: drives a running aynid with payments and measures what it settles
// (issue 5, SPEC §9). A gRPC client only, on the callback API so that one process can
// keep hundreds of requests in flight on a 2-core machine.
//
//   ayni-loadgen --server HOST:PORT --key-file FILE [options]
//
// Each run sets up its own bank (code LG + 6 hex digits), currency, `--accounts` member
// accounts funded by deposits and one merchant account, then for `--duration` seconds:
//
//   closed loop (default): `--clients` logical clients, each sending its next request
//                          as soon as the previous one is answered;
//   open loop (--rate R):  R transfers/s offered on a fixed schedule whatever the
//                          answers; latency counts from the scheduled time, so a slow
//                          server cannot hide its queueing (no coordinated omission).
//
// `--mode pay` sends unary Pay; `--mode batch --batch-size B` sends BatchPay of B items.
// `--mode offline --batch-size B` is the kiosks' upload (SPEC §9 "offline receipts
// verified and settled"): `--clients` kiosks are registered with KIOSK keys, every member
// account gets a card (registered, loaded, its load record confirmed), then each kiosk
// uploads pre-signed debit records of those cards in SubmitOfflineBatch calls of B
// records, closed loop, for `--duration` seconds; every record must come back SETTLED,
// and afterwards the card audit must be consistent and the merchant's balance must have
// grown by exactly the settled amounts.
// `--mode read` sends unary GetAccount of random members and nothing else: the unary path
// through aynid (gRPC, the writer thread between batches, the finish thread) without
// PostgreSQL, which bounds what unary Pay can reach on the same machine. Every answer must
// name the account asked for and show its deposit (nobody pays in a read run).
// `--target uniform` pays between random members; `--target hot` pays every payment to
// the one merchant account.
//
// After the run it settles every request whose answer was lost (a retry is exactly-once),
// then checks the ledger: every member's balance must equal its deposit plus the
// acknowledged payments, and with --verify-dsn every acknowledged request id must be in
// the `transfers` table exactly once. Any mismatch exits 1.
//
// `--cpu-pid NAME=PID` (repeatable): also report the CPU that process and its children
// spent in the run's window, per acknowledged transfer (read, record), beside the load
// generator's own and how many of the machine's cores were busy (Linux /proc:
// bench/loadgen/proc_cpu.h). deploy/bench.sh names aynid and the postmaster.
//
// Output: a human summary on stderr, one JSON object on stdout.
// Exit codes: 0 ok, 1 verification failed, 2 set-up failed, 64 usage.
#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ayni/v1/cards.grpc.pb.h"
#include "ayni/v1/ledger.grpc.pb.h"
#include "ayni/v1/reserves.grpc.pb.h"
#include "ayni/v1/setup.grpc.pb.h"
#include "bench/loadgen/proc_cpu.h"
#include "clearing/card/crypto.h"
#include "clearing/card/kiosk_batch.h"
#include "clearing/card/record.h"

namespace {

using namespace ayni;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string server = "127.0.0.1:7443";
  std::string key_file;
  std::string mode = "pay";        // pay | batch | offline | read
  std::string target = "uniform";  // uniform | hot
  int accounts = 1000;
  int clients = 64;
  int batch_size = 100;
  double duration_s = 10;
  double rate = 0;  // > 0: open loop at this many transfers/s
  int channels = 4;
  std::string verify_dsn;
  std::string label;
  std::vector<std::pair<std::string, int64_t>> cpu_pids;  // --cpu-pid NAME=PID
};

[[noreturn]] void Usage(const std::string& why) {
  std::cerr << "ayni-loadgen: " << why << "\n"
            << "usage: ayni-loadgen --server HOST:PORT --key-file FILE\n"
               "  [--mode pay|batch|offline|read] [--batch-size N] [--target uniform|hot]\n"
               "  [--accounts N] [--clients N] [--duration SECONDS] [--rate TRANSFERS_PER_S]\n"
               "  [--channels N] [--verify-dsn DSN] [--label TEXT] [--cpu-pid NAME=PID ...]\n";
  std::exit(64);
}

// --cpu-pid NAME=PID, of a process that exists.
std::pair<std::string, int64_t> ParseCpuPid(const std::string& v) {
  const size_t eq = v.find('=');
  if (eq == 0 || eq == std::string::npos) Usage("--cpu-pid: NAME=PID, e.g. aynid=1234");
  int64_t pid = 0;
  const auto [end, ec] = std::from_chars(v.data() + eq + 1, v.data() + v.size(), pid);
  if (ec != std::errc() || end != v.data() + v.size() || pid <= 0) {
    Usage("--cpu-pid: " + v.substr(eq + 1) + " is not a process id");
  }
  if (!bench::ProcessTreeTicks(pid)) Usage("--cpu-pid: no process " + std::to_string(pid));
  return {v.substr(0, eq), pid};
}

Options Parse(int argc, char** argv) {
  Options o;
  if (const char* v = std::getenv("AYNI_SERVER")) o.server = v;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") Usage("help");
    if (i + 1 >= argc) Usage(a + ": needs a value");
    const std::string v = argv[++i];
    auto num = [&](double lo, double hi) {
      char* end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0' || d < lo || d > hi) {
        Usage(a + ": must be a number in " + std::to_string(lo) + " … " + std::to_string(hi));
      }
      return d;
    };
    if (a == "--server") o.server = v;
    else if (a == "--key-file") o.key_file = v;
    else if (a == "--mode") o.mode = v;
    else if (a == "--target") o.target = v;
    else if (a == "--accounts") o.accounts = static_cast<int>(num(2, 100000));
    else if (a == "--clients") o.clients = static_cast<int>(num(1, 4096));
    else if (a == "--batch-size") o.batch_size = static_cast<int>(num(1, 8190));
    else if (a == "--duration") o.duration_s = num(0.1, 86400);
    else if (a == "--rate") o.rate = num(1, 1e7);
    else if (a == "--channels") o.channels = static_cast<int>(num(1, 64));
    else if (a == "--verify-dsn") o.verify_dsn = v;
    else if (a == "--label") o.label = v;
    else if (a == "--cpu-pid") o.cpu_pids.push_back(ParseCpuPid(v));
    else Usage("unknown option " + a);
  }
  if (o.key_file.empty()) Usage("--key-file is required");
  if (o.mode != "pay" && o.mode != "batch" && o.mode != "offline" && o.mode != "read") {
    Usage("--mode: pay, batch, offline or read");
  }
  if (o.mode == "read" && o.target != "uniform") Usage("--mode read: no --target");
  if (o.mode == "offline" && o.rate > 0) Usage("--mode offline is closed loop: no --rate");
  if (o.target != "uniform" && o.target != "hot") Usage("--target: uniform or hot");
  return o;
}

std::string ReadToken(const std::string& path) {
  std::ifstream f(path);
  std::string t;
  std::getline(f, t);
  if (t.empty()) {
    std::cerr << "ayni-loadgen: no API key in " << path << "\n";
    std::exit(2);
  }
  return t;
}

std::string RandomId() {
  std::string s(16, '\0');
  randombytes_buf(s.data(), s.size());
  s[0] = static_cast<char>(s[0] | 1);  // never all zero
  return s;
}

// ---- Connection -----------------------------------------------------------------------------

struct Conn {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::LedgerService::Stub> ledger;
  std::unique_ptr<v1::SetupService::Stub> setup;
  std::unique_ptr<v1::ReservesService::Stub> reserves;
  std::unique_ptr<v1::CardService::Stub> cards;
};

class Connections {
 public:
  Connections(const std::string& server, const std::string& token, int n) : token_(token) {
    for (int i = 0; i < n; ++i) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one TCP connection each
      args.SetInt("ayni.loadgen.channel", i);             // never shared by gRPC
      auto ch = grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args);
      conns_.push_back(Conn{ch, v1::LedgerService::NewStub(ch), v1::SetupService::NewStub(ch),
                            v1::ReservesService::NewStub(ch), v1::CardService::NewStub(ch)});
    }
  }
  Conn& at(size_t i) { return conns_[i % conns_.size()]; }
  void Prepare(grpc::ClientContext* ctx, int timeout_s = 30) const {
    ctx->AddMetadata("authorization", "Bearer " + token_);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s));
  }

 private:
  std::string token_;
  std::vector<Conn> conns_;
};

// ---- Set-up -----------------------------------------------------------------------------------

struct World {
  uint64_t bank = 0, currency = 0, merchant = 0;
  std::vector<uint64_t> members;
  int64_t deposit = 0;
};

[[noreturn]] void SetupFail(const std::string& what) {
  std::cerr << "ayni-loadgen: set-up: " << what << "\n";
  std::exit(2);
}

template <typename Reply>
void CheckReply(const grpc::Status& s, const Reply& r, const std::string& what) {
  if (!s.ok()) SetupFail(what + ": " + s.error_message());
  if (r.reason() != v1::REASON_OK && r.reason() != v1::REASON_EXISTS) {
    SetupFail(what + ": " + v1::Reason_Name(r.reason()) + " " + r.detail());
  }
}

World Setup(Connections& c, const Options& o) {
  Conn& k = c.at(0);
  World w;
  {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::GetDeploymentReply d;
    const grpc::Status s = k.setup->GetDeployment(&ctx, v1::GetDeploymentRequest(), &d);
    if (!s.ok()) SetupFail("GetDeployment: " + s.error_message());
    if (!d.deployed()) {
      grpc::ClientContext ctx2;
      c.Prepare(&ctx2);
      v1::InitDeploymentRequest q;
      q.set_request_id(RandomId());
      q.set_national_code("BRL");
      q.set_scale(100);
      v1::InitDeploymentReply r;
      CheckReply(k.setup->InitDeployment(&ctx2, q, &r), r, "InitDeployment");
    }
  }
  char code[16];
  std::snprintf(code, sizeof code, "LG%06X", randombytes_uniform(0xFFFFFF));
  {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::CreateBankRequest q;
    q.set_request_id(RandomId());
    q.set_code(code);
    q.set_name(std::string("Load ") + code);
    v1::CreateBankReply r;
    CheckReply(k.setup->CreateBank(&ctx, q, &r), r, "CreateBank");
    w.bank = r.bank_id();
  }
  {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::CreateCurrencyRequest q;
    q.set_request_id(RandomId());
    q.set_bank_id(w.bank);
    q.set_code(std::string("C") + (code + 2));
    v1::CreateCurrencyReply r;
    CheckReply(k.setup->CreateCurrency(&ctx, q, &r), r, "CreateCurrency");
    w.currency = r.currency_id();
  }
  // Enough that no payment of the run is refused for funds: at most 1,000 minor a payment.
  w.deposit = 1'000'000'000;
  auto open = [&](size_t i, bool merchant) -> uint64_t {
    Conn& cc = c.at(i);
    v1::CreateMemberReply mr;
    {
      grpc::ClientContext ctx;
      c.Prepare(&ctx);
      v1::CreateMemberRequest q;
      q.set_request_id(RandomId());
      q.set_bank_id(w.bank);
      q.set_name((merchant ? "merchant " : "member ") + std::to_string(i));
      CheckReply(cc.setup->CreateMember(&ctx, q, &mr), mr, "CreateMember");
    }
    v1::OpenAccountReply ar;
    {
      grpc::ClientContext ctx;
      c.Prepare(&ctx);
      v1::OpenAccountRequest q;
      q.set_request_id(RandomId());
      q.set_member_id(mr.member_id());
      q.set_currency_id(w.currency);
      if (merchant) q.set_kind(v1::ACCOUNT_KIND_MERCHANT);
      CheckReply(cc.setup->OpenAccount(&ctx, q, &ar), ar, "OpenAccount");
    }
    if (!merchant) {
      grpc::ClientContext ctx;
      c.Prepare(&ctx);
      v1::IssueRequest q;
      q.set_request_id(RandomId());
      q.set_account_id(ar.account_id());
      q.set_amount_minor(w.deposit);
      v1::IssueReply r;
      CheckReply(cc.reserves->Issue(&ctx, q, &r), r, "Issue");
    }
    return ar.account_id();
  };
  w.merchant = open(0, true);
  w.members.resize(static_cast<size_t>(o.accounts));
  std::atomic<size_t> next{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 16; ++t) {
    ts.emplace_back([&] {
      for (size_t i; (i = next++) < w.members.size();) w.members[i] = open(i, false);
    });
  }
  for (auto& t : ts) t.join();
  return w;
}

// ---- The run ------------------------------------------------------------------------------

struct Payment {
  std::string request_id;
  uint64_t from = 0, to = 0;
  int64_t amount = 0;
};

// What one run saw. Guarded by mu.
struct Tally {
  std::mutex mu;
  std::vector<uint32_t> latency_us;      // one per answered RPC
  std::vector<Payment> acked;             // committed (REASON_OK)
  std::vector<Payment> unsure;            // transport error: outcome unknown
  uint64_t refused = 0;                   // answered with a business refusal
  uint64_t reads_ok = 0;                  // --mode read: answered with the right account
  uint64_t reads_wrong = 0;               // --mode read: answered with anything else
  std::map<std::string, uint64_t> errors;  // gRPC code → count
  uint64_t offered = 0;                   // transfers sent
  uint64_t dropped = 0;                   // open loop: not sent, too many in flight
};

// CPU spent during one window: this process's (exact), each --cpu-pid tree's and the
// machine's (clock ticks). Begin and End are called from one thread.
class CpuWindow {
 public:
  explicit CpuWindow(const Options& o) : o_(o) {}
  void Begin() { Read(&begin_); }
  void End() { Read(&end_); }

  // "loadgen 1.0 µs, aynid 4.5 µs, …; machine busy 1.07 of 2 cores" and its JSON fields.
  std::string Human(uint64_t ops, double seconds) const {
    std::string s;
    for (size_t i = 0; i < end_.ticks.size(); ++i) {
      if (i) s += ", ";
      s += Name(i);
      s += ' ';
      const double v = PerOpUs(i, ops);
      s += v < 0 ? "unknown" : Fixed(v, 1) + " µs";
    }
    const double busy = BusyCores(seconds);
    return s + "; machine busy " + (busy < 0 ? "unknown" : Fixed(busy, 2)) + " of " +
           std::to_string(std::thread::hardware_concurrency()) + " cores";
  }
  std::string Json(uint64_t ops, double seconds) const {
    std::string s = ",\"cpu_us_per_op\":{";
    for (size_t i = 0; i < end_.ticks.size(); ++i) {
      const double v = PerOpUs(i, ops);
      if (i) s += ',';
      s += '"';
      s += Name(i);
      s += "\":";
      s += v < 0 ? "null" : Fixed(v, 2);
    }
    const double busy = BusyCores(seconds);
    return s + "},\"busy_cores\":" + (busy < 0 ? "null" : Fixed(busy, 3));
  }

 private:
  struct Reading {
    double self_s = 0;
    std::vector<std::optional<uint64_t>> ticks;  // [0] machine busy, then each --cpu-pid
  };
  void Read(Reading* r) const {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    r->self_s = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
    r->ticks = {bench::MachineBusyTicks()};
    for (const auto& [name, pid] : o_.cpu_pids) r->ticks.push_back(bench::ProcessTreeTicks(pid));
  }
  // Index 0 is the load generator itself; i ≥ 1 is --cpu-pid i − 1.
  std::string Name(size_t i) const { return i == 0 ? "loadgen" : o_.cpu_pids[i - 1].first; }
  double PerOpUs(size_t i, uint64_t ops) const {
    if (ops == 0) return -1;
    if (i == 0) return (end_.self_s - begin_.self_s) * 1e6 / static_cast<double>(ops);
    if (!begin_.ticks[i] || !end_.ticks[i] || *end_.ticks[i] < *begin_.ticks[i]) return -1;
    return Seconds(*end_.ticks[i] - *begin_.ticks[i]) * 1e6 / static_cast<double>(ops);
  }
  double BusyCores(double seconds) const {
    if (!begin_.ticks[0] || !end_.ticks[0] || seconds <= 0) return -1;
    return Seconds(*end_.ticks[0] - *begin_.ticks[0]) / seconds;
  }
  static double Seconds(uint64_t ticks) {
    return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  static std::string Fixed(double v, int digits) {
    char b[32];
    std::snprintf(b, sizeof b, "%.*f", digits, v);
    return b;
  }
  const Options& o_;
  Reading begin_, end_;
};

class Generator {
 public:
  Generator(Connections& c, const Options& o, const World& w) : c_(c), o_(o), w_(w) {}

  void Run() {
    cpu_.Begin();
    start_ = Clock::now();
    end_ = start_ + std::chrono::microseconds(static_cast<int64_t>(o_.duration_s * 1e6));
    if (o_.rate > 0) {
      OpenLoop();
    } else {
      for (int i = 0; i < o_.clients; ++i) Send(static_cast<size_t>(i), Clock::now(), true);
    }
    std::unique_lock<std::mutex> l(done_mu_);
    done_cv_.wait(l, [&] { return in_flight_ == 0 && Clock::now() >= end_; });
    elapsed_s_ = std::chrono::duration<double>(Clock::now() - start_).count();
    cpu_.End();
  }
  const CpuWindow& cpu() const { return cpu_; }
  Tally& tally() { return tally_; }
  double elapsed_s() const { return elapsed_s_; }
  double window_s() const { return o_.duration_s; }

 private:
  std::vector<Payment> NextPayments(std::mt19937_64& rng) {
    const int n = o_.mode == "batch" ? o_.batch_size : 1;
    std::vector<Payment> ps(static_cast<size_t>(n));
    for (Payment& p : ps) {
      const size_t m = w_.members.size();
      p.from = w_.members[rng() % m];
      if (o_.target == "hot") {
        p.to = w_.merchant;
      } else {
        do p.to = w_.members[rng() % m];
        while (p.to == p.from);
      }
      p.amount = 1 + static_cast<int64_t>(rng() % 1000);
      if (o_.mode == "pay") p.request_id = RandomId();
    }
    return ps;
  }

  // One RPC for client `client`; `scheduled` is when it should have been sent. In closed
  // loop its answer sends the client's next request until the run ends.
  void Send(size_t client, Clock::time_point scheduled, bool closed) {
    {
      std::lock_guard<std::mutex> l(done_mu_);
      ++in_flight_;
    }
    thread_local std::mt19937_64 rng(std::random_device{}());
    auto payments = std::make_shared<std::vector<Payment>>(NextPayments(rng));
    Conn& conn = c_.at(client);
    auto ctx = std::make_shared<grpc::ClientContext>();
    c_.Prepare(ctx.get());
    auto finish = [this, client, scheduled, closed, payments, ctx](
                      const grpc::Status& s, bool ok,
                      const std::vector<std::pair<v1::Reason, std::string>>& items) {
      const auto now = Clock::now();
      {
        std::lock_guard<std::mutex> l(tally_.mu);
        tally_.offered += payments->size();
        if (s.ok()) {
          tally_.latency_us.push_back(static_cast<uint32_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(now - scheduled).count()));
          if (o_.mode == "read") {
            if (ok) ++tally_.reads_ok;
            else ++tally_.reads_wrong;
          } else if (items.empty()) {  // unary
            if (ok) tally_.acked.push_back((*payments)[0]);
            else ++tally_.refused;
          } else {
            for (size_t i = 0; i < items.size(); ++i) {
              Payment p = (*payments)[i];
              p.request_id = items[i].second;
              if (items[i].first == v1::REASON_OK) tally_.acked.push_back(std::move(p));
              else ++tally_.refused;
            }
          }
        } else {
          ++tally_.errors[std::to_string(s.error_code())];
          if (o_.mode != "read") {  // a lost read changed nothing
            for (const Payment& p : *payments) tally_.unsure.push_back(p);
          }
          if (o_.mode == "batch") batch_retry_.push_back(batch_ids_.at(payments.get()));
        }
      }
      if (closed && now < end_) Send(client, now, true);
      std::lock_guard<std::mutex> l(done_mu_);
      --in_flight_;
      done_cv_.notify_all();
    };
    if (o_.mode == "read") {
      auto req = std::make_shared<v1::GetAccountRequest>();
      req->set_account_id((*payments)[0].from);
      auto rep = std::make_shared<v1::GetAccountReply>();
      conn.ledger->async()->GetAccount(
          ctx.get(), req.get(), rep.get(), [this, req, rep, finish](grpc::Status s) {
            const bool right = rep->account().account_id() == req->account_id() &&
                               rep->account().balance_minor() == w_.deposit;
            finish(s, right, {});
          });
    } else if (o_.mode == "pay") {
      auto req = std::make_shared<v1::PayRequest>();
      const Payment& p = (*payments)[0];
      req->set_request_id(p.request_id);
      req->set_from_account_id(p.from);
      req->set_to_account_id(p.to);
      req->set_amount_minor(p.amount);
      auto rep = std::make_shared<v1::PayReply>();
      conn.ledger->async()->Pay(
          ctx.get(), req.get(), rep.get(),
          [req, rep, finish](grpc::Status s) { finish(s, rep->reason() == v1::REASON_OK, {}); });
    } else {
      auto req = std::make_shared<v1::BatchPayRequest>();
      req->set_request_id(RandomId());
      for (const Payment& p : *payments) {
        auto* it = req->add_payments();
        it->set_from_account_id(p.from);
        it->set_to_account_id(p.to);
        it->set_amount_minor(p.amount);
      }
      {
        std::lock_guard<std::mutex> l(tally_.mu);
        batch_ids_[payments.get()] = *req;
      }
      auto rep = std::make_shared<v1::BatchPayReply>();
      conn.ledger->async()->BatchPay(
          ctx.get(), req.get(), rep.get(), [this, req, rep, finish, payments](grpc::Status s) {
            std::vector<std::pair<v1::Reason, std::string>> items;
            if (s.ok()) {
              for (const auto& r : rep->results()) items.emplace_back(r.reason(), r.request_id());
            }
            finish(s, rep->reason() == v1::REASON_OK, items);
            std::lock_guard<std::mutex> l(tally_.mu);
            if (s.ok()) batch_ids_.erase(payments.get());
          });
    }
  }

  void OpenLoop() {
    const double per_rpc = o_.mode == "batch" ? o_.batch_size : 1;
    const double rpcs_per_s = o_.rate / per_rpc;
    const size_t max_in_flight = 20000;
    uint64_t sent = 0;
    for (;;) {
      const auto now = Clock::now();
      if (now >= end_) break;
      const double t = std::chrono::duration<double>(now - start_).count();
      const auto due = static_cast<uint64_t>(t * rpcs_per_s);
      for (; sent < due; ++sent) {
        const auto scheduled =
            start_ + std::chrono::nanoseconds(static_cast<int64_t>(sent * 1e9 / rpcs_per_s));
        size_t in_flight;
        {
          std::lock_guard<std::mutex> l(done_mu_);
          in_flight = in_flight_;
        }
        if (in_flight >= max_in_flight) {
          std::lock_guard<std::mutex> l(tally_.mu);
          tally_.dropped += static_cast<uint64_t>(per_rpc);
          continue;
        }
        Send(static_cast<size_t>(sent), scheduled, false);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

 public:
  // Whole batches whose answer was lost: retried as they were (same id, same items).
  std::vector<v1::BatchPayRequest> batch_retry_;

 private:
  Connections& c_;
  const Options& o_;
  const World& w_;
  Tally tally_;
  std::unordered_map<const void*, v1::BatchPayRequest> batch_ids_;  // guarded by tally_.mu
  Clock::time_point start_, end_;
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  size_t in_flight_ = 0;  // guarded by done_mu_
  double elapsed_s_ = 0;
  CpuWindow cpu_{o_};
};

double Percentile(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i] / 1000.0;
}

// ---- Verification ---------------------------------------------------------------------------

// Settles every request whose answer was lost; returns false when one cannot be settled.
bool SettleUnsure(Connections& c, Generator& g, const Options& o, std::string* problem) {
  Tally& t = g.tally();
  Conn& k = c.at(0);
  if (o.mode == "pay") {
    for (const Payment& p : t.unsure) {
      for (int attempt = 0;; ++attempt) {
        grpc::ClientContext ctx;
        c.Prepare(&ctx);
        v1::PayRequest q;
        q.set_request_id(p.request_id);
        q.set_from_account_id(p.from);
        q.set_to_account_id(p.to);
        q.set_amount_minor(p.amount);
        v1::PayReply r;
        const grpc::Status s = k.ledger->Pay(&ctx, q, &r);
        if (s.ok()) {
          if (r.reason() == v1::REASON_OK || r.reason() == v1::REASON_EXISTS) t.acked.push_back(p);
          break;
        }
        if (attempt == 20) {
          *problem = "a lost payment could not be settled: " + s.error_message();
          return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  } else {
    for (const v1::BatchPayRequest& q : g.batch_retry_) {
      for (int attempt = 0;; ++attempt) {
        grpc::ClientContext ctx;
        c.Prepare(&ctx, 120);
        v1::BatchPayReply r;
        const grpc::Status s = k.ledger->BatchPay(&ctx, q, &r);
        if (s.ok()) {
          for (int i = 0; i < r.results_size(); ++i) {
            const auto reason = r.results(i).reason();
            if (reason != v1::REASON_OK && reason != v1::REASON_EXISTS) continue;
            const auto& it = q.payments(i);
            t.acked.push_back(
                {r.results(i).request_id(), it.from_account_id(), it.to_account_id(),
                 it.amount_minor()});
          }
          break;
        }
        if (attempt == 20) {
          *problem = "a lost batch could not be settled: " + s.error_message();
          return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  }
  return true;
}

// Every member's balance = deposit + acknowledged payments (and the merchant's).
bool CheckBalances(Connections& c, const World& w, const Tally& t, std::string* problem) {
  std::unordered_map<uint64_t, int64_t> expected;
  for (uint64_t m : w.members) expected[m] = w.deposit;
  expected[w.merchant] = 0;
  for (const Payment& p : t.acked) {
    expected[p.from] -= p.amount;
    expected[p.to] += p.amount;
  }
  std::string token;
  size_t seen = 0;
  do {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::ListAccountsRequest q;
    q.set_bank_id(w.bank);
    q.set_currency_id(w.currency);
    q.set_page_size(1000);
    q.set_page_token(token);
    v1::ListAccountsReply r;
    const grpc::Status s = c.at(0).ledger->ListAccounts(&ctx, q, &r);
    if (!s.ok()) {
      *problem = "ListAccounts: " + s.error_message();
      return false;
    }
    for (const auto& a : r.accounts()) {
      auto it = expected.find(a.account_id());
      if (it == expected.end()) continue;  // system accounts
      ++seen;
      if (a.balance_minor() != it->second) {
        *problem = "account " + std::to_string(a.account_id()) + ": balance " +
                   std::to_string(a.balance_minor()) + ", expected " +
                   std::to_string(it->second) + " from the acknowledged payments";
        return false;
      }
    }
    token = r.next_page_token();
  } while (!token.empty());
  if (seen != expected.size()) {
    *problem = "found " + std::to_string(seen) + " of " + std::to_string(expected.size()) +
               " accounts";
    return false;
  }
  return true;
}

// Every acknowledged request id in `transfers` exactly once (same-bank payments: one leg).
bool CheckStored(const std::string& dsn, const Tally& t, std::string* problem) {
  try {
    pqxx::connection conn(dsn);
    pqxx::work tx(conn);
    tx.exec("CREATE TEMP TABLE acked (request_id bytea PRIMARY KEY) ON COMMIT DROP");
    {
      pqxx::stream_to copy(tx, "acked", std::vector<std::string>{"request_id"});
      for (const Payment& p : t.acked) {
        static const char* hex = "0123456789abcdef";
        std::string h = "\\x";
        for (unsigned char ch : p.request_id) {
          h += hex[ch >> 4];
          h += hex[ch & 15];
        }
        copy << std::make_tuple(h);
      }
      copy.complete();
    }
    const pqxx::row r = tx.exec1(
        "SELECT count(*) FILTER (WHERE n = 0), count(*) FILTER (WHERE n > 1) FROM ("
        "SELECT a.request_id, count(t.id) AS n FROM acked a LEFT JOIN transfers t "
        "ON t.request_id = a.request_id GROUP BY a.request_id) x");
    const int64_t missing = r[0].as<int64_t>(), doubled = r[1].as<int64_t>();
    if (missing != 0 || doubled != 0) {
      *problem = std::to_string(missing) + " acknowledged payments missing, " +
                 std::to_string(doubled) + " stored more than once";
      return false;
    }
  } catch (const std::exception& e) {
    *problem = std::string("verify-dsn: ") + e.what();
    return false;
  }
  return true;
}

std::string JsonString(const std::string& s) {
  std::string o = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') o += '\\';
    o += ch;
  }
  return o + "\"";
}

// ---- Offline receipts (--mode offline) ----------------------------------------------------

struct OfflineCard {
  CardId id;
  cardio::KeyPair key;
  uint64_t account = 0;
  uint32_t counter = 0;
  int64_t balance = 0;
  cardio::Sha256Digest last_hash{};
  LoadId last_load;
};

struct OfflineKiosk {
  uint64_t id = 0;
  TerminalId terminal;
  cardio::KeyPair key;
  std::string token;
  std::vector<std::vector<cardio::Bytes>> batches;  // pre-signed, in upload order
};

cardio::KeyPair RandomKeyPair() {
  cardio::KeySeed seed;
  randombytes_buf(seed.data(), seed.size());
  return cardio::KeyPairFromSeed(seed);
}

template <typename Id>
Id RandomWideId() {
  typename Id::Bytes b;
  randombytes_buf(b.data(), b.size());
  b[0] |= 1;
  return Id(b);
}

cardio::Bytes SignedRecordBytes(OfflineCard& card, const cardio::OfflineRecord& r) {
  card.last_hash = cardio::RecordHash(r);
  const cardio::Bytes body = cardio::EncodeRecordBody(r);
  return cardio::EncodeSignedRecord({r, cardio::SignWithPrefix(card.key, cardio::kRecordPrefix, body)});
}

// Uploads `records` as one signed batch of `kiosk`; the reply's counts.
grpc::Status Upload(Conn& conn, const OfflineKiosk& kiosk, uint32_t sequence,
                    const std::vector<cardio::Bytes>& records, v1::SubmitOfflineBatchReply* reply) {
  v1::SubmitOfflineBatchRequest q;
  q.set_terminal_id(std::string(kiosk.terminal.bytes().begin(), kiosk.terminal.bytes().end()));
  q.set_batch_sequence(sequence);
  for (const cardio::Bytes& r : records) q.add_records(std::string(r.begin(), r.end()));
  const cardio::Signature sig = cardio::SignKioskBatch(kiosk.terminal, sequence, records, kiosk.key);
  q.set_kiosk_signature(std::string(sig.begin(), sig.end()));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + kiosk.token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return conn.cards->SubmitOfflineBatch(&ctx, q, reply);
}

int64_t MerchantBalance(Connections& c, uint64_t account) {
  grpc::ClientContext ctx;
  c.Prepare(&ctx);
  v1::GetAccountRequest q;
  q.set_account_id(account);
  v1::GetAccountReply r;
  const grpc::Status s = c.at(0).ledger->GetAccount(&ctx, q, &r);
  if (!s.ok()) SetupFail("GetAccount: " + s.error_message());
  return r.account().balance_minor();
}

int RunOffline(Connections& c, const Options& o, const World& w) {
  constexpr int64_t kLoad = 100'000'000;  // each card's purse: far more than the run spends
  constexpr int64_t kDebit = 7;
  // Kiosks, all collecting for the run's merchant, each with its own KIOSK key.
  std::vector<OfflineKiosk> kiosks(static_cast<size_t>(o.clients));
  for (size_t k = 0; k < kiosks.size(); ++k) {
    OfflineKiosk& kiosk = kiosks[k];
    kiosk.terminal = RandomWideId<TerminalId>();
    kiosk.key = RandomKeyPair();
    {
      grpc::ClientContext ctx;
      c.Prepare(&ctx);
      v1::RegisterKioskRequest q;
      q.set_request_id(RandomId());
      q.set_terminal_id(std::string(kiosk.terminal.bytes().begin(), kiosk.terminal.bytes().end()));
      q.set_public_key(std::string(kiosk.key.public_key.begin(), kiosk.key.public_key.end()));
      q.set_merchant_account_id(w.merchant);
      q.set_label("loadgen kiosk " + std::to_string(k));
      v1::RegisterKioskReply r;
      CheckReply(c.at(k).cards->RegisterKiosk(&ctx, q, &r), r, "RegisterKiosk");
      kiosk.id = r.kiosk_id();
    }
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::CreateApiKeyRequest q;
    q.set_request_id(RandomId());
    q.set_role(v1::ROLE_KIOSK);
    q.mutable_scope()->set_kind(v1::SCOPE_KIND_TERMINAL);
    q.mutable_scope()->set_id(kiosk.id);
    q.set_label("loadgen kiosk " + std::to_string(k));
    v1::CreateApiKeyReply r;
    CheckReply(c.at(k).setup->CreateApiKey(&ctx, q, &r), r, "CreateApiKey");
    kiosk.token = r.token();
  }
  // A card per member account: registered, loaded, its load record confirmed by kiosk 0.
  std::vector<OfflineCard> cards(w.members.size());
  std::vector<cardio::Bytes> load_records(cards.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 16; ++t) {
    ts.emplace_back([&] {
      for (size_t i; (i = next++) < cards.size();) {
        OfflineCard& card = cards[i];
        card.id = RandomWideId<CardId>();
        card.key = RandomKeyPair();
        card.account = w.members[i];
        {
          grpc::ClientContext ctx;
          c.Prepare(&ctx);
          v1::RegisterCardRequest q;
          q.set_request_id(RandomId());
          q.set_card_id(std::string(card.id.bytes().begin(), card.id.bytes().end()));
          q.set_public_key(std::string(card.key.public_key.begin(), card.key.public_key.end()));
          q.set_account_id(card.account);
          q.mutable_limits()->set_payment_max_minor(1'000'000);
          q.mutable_limits()->set_offline_amount_max_minor(kLoad);
          q.mutable_limits()->set_offline_count_max(1'000'000);
          q.mutable_limits()->set_balance_max_minor(kLoad);
          q.set_expiry_s(4'102'444'800);  // 2100-01-01
          v1::RegisterCardReply r;
          CheckReply(c.at(i).cards->RegisterCard(&ctx, q, &r), r, "RegisterCard");
        }
        cardio::Nonce challenge;
        randombytes_buf(challenge.data(), challenge.size());
        const LoadId load = RandomWideId<LoadId>();
        {
          grpc::ClientContext ctx;
          c.Prepare(&ctx);
          v1::AuthorizeLoadRequest q;
          q.set_request_id(std::string(load.bytes().begin(), load.bytes().end()));
          q.set_card_id(std::string(card.id.bytes().begin(), card.id.bytes().end()));
          q.set_amount_minor(kLoad);
          q.set_counter(0);
          q.set_challenge(std::string(challenge.begin(), challenge.end()));
          v1::AuthorizeLoadReply r;
          CheckReply(c.at(i).cards->AuthorizeLoad(&ctx, q, &r), r, "AuthorizeLoad");
        }
        // What the card signs when it applies the token: its load record.
        cardio::OfflineRecord rec;
        rec.type = cardio::RecordType::kLoad;
        rec.scheme_id = static_cast<uint32_t>(w.bank);
        rec.card_id = card.id;
        rec.counter = ++card.counter;
        rec.amount = Amount(kLoad);
        rec.balance_after = Amount(kLoad);
        rec.terminal_nonce = challenge;
        rec.last_load_id = load;
        rec.previous_hash = card.last_hash;
        load_records[i] = SignedRecordBytes(card, rec);
        card.balance = kLoad;
        card.last_load = load;
      }
    });
  }
  for (auto& t : ts) t.join();
  ts.clear();
  for (size_t at = 0; at < load_records.size(); at += 1000) {
    const std::vector<cardio::Bytes> chunk(
        load_records.begin() + static_cast<std::ptrdiff_t>(at),
        load_records.begin() + static_cast<std::ptrdiff_t>(std::min(at + 1000, load_records.size())));
    v1::SubmitOfflineBatchReply r;
    const grpc::Status s = Upload(c.at(0), kiosks[0], static_cast<uint32_t>(at / 1000 + 1), chunk, &r);
    if (!s.ok() || r.loads_confirmed() != chunk.size()) {
      SetupFail("load records: " + (s.ok() ? std::to_string(r.loads_confirmed()) + " of " +
                                                 std::to_string(chunk.size()) + " confirmed"
                                           : s.error_message()));
    }
  }
  // Pre-signed debit records: enough for a generous rate over the whole run. Card i's
  // records go to kiosk i mod K, so each card's chain stays in one kiosk's order.
  const size_t per_kiosk_batches = static_cast<size_t>(
      std::max(2.0, 40'000.0 * o.duration_s / static_cast<double>(o.batch_size * o.clients)));
  for (size_t k = 0; k < kiosks.size(); ++k) kiosks[k].batches.resize(per_kiosk_batches);
  next = 0;
  for (int t = 0; t < 2; ++t) {
    ts.emplace_back([&] {
      for (size_t k; (k = next++) < kiosks.size();) {
        OfflineKiosk& kiosk = kiosks[k];
        uint32_t sequence = 0;
        size_t card = k;
        for (auto& batch : kiosk.batches) {
          for (int i = 0; i < o.batch_size; ++i) {
            OfflineCard& cd = cards[card];
            card += kiosks.size();
            if (card >= cards.size()) card = k;
            cardio::OfflineRecord rec;
            rec.type = cardio::RecordType::kDebit;
            rec.scheme_id = static_cast<uint32_t>(w.bank);
            rec.card_id = cd.id;
            rec.counter = ++cd.counter;
            rec.amount = Amount(kDebit);
            cd.balance -= kDebit;
            rec.balance_after = Amount(cd.balance);
            rec.terminal_id = kiosk.terminal;
            rec.terminal_sequence = ++sequence;
            randombytes_buf(rec.terminal_nonce.data(), rec.terminal_nonce.size());
            rec.terminal_time_s = static_cast<uint64_t>(std::time(nullptr));
            rec.last_load_id = cd.last_load;
            rec.offline_amount = Amount(kDebit * (cd.counter - 1));
            rec.offline_count = cd.counter - 1;
            rec.previous_hash = cd.last_hash;
            batch.push_back(SignedRecordBytes(cd, rec));
          }
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  ts.clear();
  if (kiosks.size() > cards.size()) SetupFail("--clients (kiosks) must not exceed --accounts");

  const int64_t merchant_before = MerchantBalance(c, w.merchant);
  std::cerr << "ayni-loadgen: " << kiosks.size() << " kiosks, " << cards.size()
            << " loaded cards; uploading batches of " << o.batch_size << " records for "
            << o.duration_s << " s\n";
  std::mutex mu;
  std::vector<uint32_t> latency_us;
  std::atomic<uint64_t> settled{0}, wrong{0};
  std::string problem;
  CpuWindow cpu(o);
  cpu.Begin();
  const Clock::time_point start = Clock::now();
  const Clock::time_point stop =
      start + std::chrono::microseconds(static_cast<int64_t>(o.duration_s * 1e6));
  for (size_t k = 0; k < kiosks.size(); ++k) {
    ts.emplace_back([&, k] {
      const OfflineKiosk& kiosk = kiosks[k];
      for (size_t b = 0; b < kiosk.batches.size() && Clock::now() < stop; ++b) {
        const Clock::time_point t0 = Clock::now();
        v1::SubmitOfflineBatchReply r;
        const grpc::Status s =
            Upload(c.at(k), kiosk, static_cast<uint32_t>(1'000'000 + b), kiosk.batches[b], &r);
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
        std::lock_guard lock(mu);
        latency_us.push_back(static_cast<uint32_t>(us.count()));
        if (!s.ok() || r.settled() != kiosk.batches[b].size()) {
          ++wrong;
          if (problem.empty()) {
            problem = s.ok() ? std::to_string(r.settled()) + " of " +
                                   std::to_string(kiosk.batches[b].size()) + " settled"
                             : s.error_message();
          }
          return;
        }
        settled += r.settled();
      }
    });
  }
  for (auto& t : ts) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  cpu.End();
  bool ok = wrong == 0;
  const int64_t gained = MerchantBalance(c, w.merchant) - merchant_before;
  if (ok && gained != static_cast<int64_t>(settled) * kDebit) {
    ok = false;
    problem = "the merchant gained " + std::to_string(gained) + " minor units for " +
              std::to_string(settled.load()) + " settled records of " + std::to_string(kDebit);
  }
  if (ok) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::CardAuditRequest q;
    q.set_bank_id(w.bank);
    v1::CardAuditReply r;
    const grpc::Status s = c.at(0).cards->CardAudit(&ctx, q, &r);
    if (!s.ok() || !r.ok()) {
      ok = false;
      problem = s.ok() ? "card audit not consistent" : "CardAudit: " + s.error_message();
    }
  }
  const double p50 = Percentile(latency_us, 0.50), p99 = Percentile(latency_us, 0.99),
               p999 = Percentile(latency_us, 0.999), max = Percentile(latency_us, 1.0);
  const double per_s = static_cast<double>(settled) / elapsed;
  std::fprintf(stderr,
               "settled %.0f records/s (%llu records in %.2f s); per batch of %d: p50 %.2f ms, "
               "p99 %.2f ms, max %.2f ms\nverification: %s\n",
               per_s, static_cast<unsigned long long>(settled.load()), elapsed, o.batch_size, p50,
               p99, max,
               ok ? "every record SETTLED once; merchant credited exactly; card audit consistent"
                  : problem.c_str());
  std::fprintf(stderr, "CPU a record: %s\n", cpu.Human(settled, elapsed).c_str());
  std::printf(
      "{\"label\":%s,\"mode\":\"offline\",\"batch_size\":%d,\"clients\":%d,\"cards\":%zu,"
      "\"duration_s\":%.2f,\"accepted_per_s\":%.0f,\"acknowledged\":%llu,\"p50_ms\":%.3f,"
      "\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f%s,\"verified\":%s}\n",
      JsonString(o.label).c_str(), o.batch_size, o.clients, cards.size(), elapsed, per_s,
      static_cast<unsigned long long>(settled.load()), p50, p99, p999, max,
      cpu.Json(settled, elapsed).c_str(), ok ? "true" : "false");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // As in aynid: no lock-order graph for gRPC's mutexes (Debian's abseil keeps one).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (sodium_init() < 0) return 2;
  const Options o = Parse(argc, argv);
  Connections conns(o.server, ReadToken(o.key_file), o.channels);
  const World w = Setup(conns, o);
  if (o.mode == "offline") return RunOffline(conns, o, w);
  std::cerr << "ayni-loadgen: bank " << w.bank << ", " << w.members.size()
            << " member accounts and 1 merchant; running " << o.mode
            << (o.mode == "batch" ? " ×" + std::to_string(o.batch_size) : "") << ", " << o.target
            << ", "
            << (o.rate > 0 ? "open loop at " + std::to_string(static_cast<int64_t>(o.rate)) + "/s"
                           : std::to_string(o.clients) + " clients")
            << ", " << o.duration_s << " s\n";

  Generator g(conns, o, w);
  g.Run();
  Tally& t = g.tally();
  const bool reads = o.mode == "read";
  // Reads: answered with the right account; payments: acknowledged (committed).
  const uint64_t acked_in_run = reads ? t.reads_ok : t.acked.size();
  uint64_t errors = 0;
  for (const auto& [code, n] : t.errors) errors += n;
  const uint64_t unsure = t.unsure.size();

  std::string problem;
  bool ok = SettleUnsure(conns, g, o, &problem) && CheckBalances(conns, w, t, &problem);
  if (ok && !o.verify_dsn.empty()) ok = CheckStored(o.verify_dsn, t, &problem);
  if (ok && t.reads_wrong > 0) {
    ok = false;
    problem = std::to_string(t.reads_wrong) +
              " reads answered with another account or a balance other than the deposit";
  }

  std::vector<uint32_t>& lat = t.latency_us;
  const double p50 = Percentile(lat, 0.50), p99 = Percentile(lat, 0.99),
               p999 = Percentile(lat, 0.999), max = Percentile(lat, 1.0);
  const double window = g.window_s();
  const double offered_per_s = o.rate > 0 ? o.rate : static_cast<double>(t.offered) / window;
  const double accepted_per_s = static_cast<double>(acked_in_run) / g.elapsed_s();

  std::fprintf(
      stderr,
      "offered %.0f %s/s, accepted %.0f %s/s (%llu %s, %llu "
      "refused, %llu RPC errors, %llu dropped)\nlatency per RPC: p50 %.2f ms, p99 %.2f "
      "ms, p99.9 %.2f ms, max %.2f ms\nverification: %s\n",
      offered_per_s, reads ? "reads" : "transfers", accepted_per_s, reads ? "reads" : "transfers",
      static_cast<unsigned long long>(acked_in_run), reads ? "answered right" : "acknowledged",
      static_cast<unsigned long long>(t.refused), static_cast<unsigned long long>(errors),
      static_cast<unsigned long long>(t.dropped), p50, p99, p999, max,
      !ok     ? problem.c_str()
      : reads ? "every read answered with its account and deposit; balances unchanged"
      : o.verify_dsn.empty() ? "balances match every acknowledged payment"
                             : "balances match; every acknowledged payment stored exactly once");
  std::fprintf(stderr, "CPU a %s: %s\n", reads ? "read" : "transfer",
               g.cpu().Human(acked_in_run, g.elapsed_s()).c_str());
  std::string errs = "{";
  for (const auto& [code, n] : t.errors) {
    errs += (errs.size() > 1 ? "," : "") + JsonString(code) + ":" + std::to_string(n);
  }
  errs += "}";
  std::printf(
      "{\"label\":%s,\"mode\":%s,\"target\":%s,\"batch_size\":%d,\"clients\":%d,\"rate\":%.0f,"
      "\"duration_s\":%.2f,\"offered_per_s\":%.0f,\"accepted_per_s\":%.0f,\"acknowledged\":%llu,"
      "\"refused\":%llu,\"rpc_errors\":%s,\"unsure_settled\":%llu,\"dropped\":%llu,"
      "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f%s,\"verified\":%s}\n",
      JsonString(o.label).c_str(), JsonString(o.mode).c_str(), JsonString(o.target).c_str(),
      o.mode == "batch" ? o.batch_size : 1, o.clients, o.rate, g.elapsed_s(), offered_per_s,
      accepted_per_s, static_cast<unsigned long long>(acked_in_run),
      static_cast<unsigned long long>(t.refused), errs.c_str(),
      static_cast<unsigned long long>(unsure), static_cast<unsigned long long>(t.dropped), p50, p99,
      p999, max, g.cpu().Json(acked_in_run, g.elapsed_s()).c_str(), ok ? "true" : "false");
  return ok ? 0 : 1;
}
