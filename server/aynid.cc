// aynid: the Ayni clearing server (SPEC §6, §8, §10).
//
//   aynid [--config FILE] [--pg-dsn DSN] [--listen HOST:PORT] [--listen-unix PATH] [--admin-key-file PATH]
//         [--tls-cert-file PEM --tls-key-file PEM] [--clearing-key-file PATH]
//
// Settings: flag > environment (AYNI_PG_DSN, AYNI_LISTEN, …) > config file (--config or
// AYNI_CONFIG) > default; server/config.h has the table. Defaults: listen 127.0.0.1:7443.
// Port 0 picks a free port; the bound address is printed on stdout as
// `aynid: listening on HOST:PORT` once the server serves.
//
// Start-up: connect and migrate (PgStore::Open) → take the writer lock (blocks while
// another aynid is the writer: a hot standby) → load the journal → Ledger::Restore →
// invariant check → stored accounts against the ledger → load API keys (mint the bootstrap
// ADMIN key when there are none, token written to --admin-key-file, mode 0600) → start the
// writer → serve. Any fault refuses to start (exit 1) with the reason.
// SIGTERM / SIGINT: graceful stop (in-flight calls finish, the writer drains).
// TLS when tls_cert_file and tls_key_file are set (server/tls.h: read and checked before
// the database is touched); without TLS a non-loopback listen address is refused.
// Never logs a secret: tokens, private keys and DSN passwords are not printed.
#include <absl/synchronization/mutex.h>
#include <fcntl.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clearing/invariants.h"
#include "clearing/ledger.h"
#include "server/api/signature.h"
#include "server/auth/api_key.h"
#include "server/auth/pg_key_registry.h"
#include "server/config.h"
#include "server/api/bank_keys.h"
#include "server/service/card_service.h"
#include "server/service/core.h"
#include "server/service/services.h"
#include "server/service/setoff_service.h"
#include "server/service/task_thread.h"
#include "server/service/work_pool.h"
#include "server/storage/pg_store.h"
#include "server/tls.h"
#include "server/writer/writer.h"

namespace {

using namespace ayni;

// Settings from flags, environment and config file (server/config.h).
using Options = server::Config;

void Log(const std::string& m) { std::cerr << "aynid: " << m << std::endl; }

int Fail(const std::string& m) {
  Log(m);
  return 1;
}

Status WriteKeyFile(const std::string& path, const std::string& token) {
  ::unlink(path.c_str());  // a stale file of an earlier database: replaced, never reused
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal(path + ": " + std::strerror(errno));
  const std::string line = token + "\n";
  const bool ok = ::fchmod(fd, 0600) == 0 &&
                  ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::Ok() : Status::Internal(path + ": write failed");
}

uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Loads every key into `registry`; on an empty table mints the bootstrap ADMIN key.
Status LoadKeys(auth::PgKeyStore& store, auth::KeyRegistry& registry, const Options& o) {
  Result<std::vector<auth::KeyRecord>> keys = store.LoadAll();
  if (!keys.ok()) return keys.status();
  for (const auth::KeyRecord& k : *keys) {
    if (Status s = registry.Add(k); !s.ok()) return s;
  }
  if (!keys->empty()) return Status::Ok();
  if (o.admin_key_file.empty()) {
    return Status::FailedPrecondition(
        "no API keys yet: pass --admin-key-file PATH so that the bootstrap ADMIN key can be "
        "written there");
  }
  Result<auth::MintedKey> minted = auth::MintKey({.role = auth::Role::kAdmin,
                                                  .scope = auth::Scope::Deployment(),
                                                  .label = "bootstrap admin",
                                                  .created_at_ns = NowNs()});
  if (!minted.ok()) return minted.status();
  // The file first: a key in the table whose token is nowhere would lock everyone out.
  if (Status s = WriteKeyFile(o.admin_key_file, minted->token); !s.ok()) return s;
  Result<std::optional<auth::KeyRecord>> ins = store.Insert(minted->record, std::nullopt);
  if (!ins.ok()) return ins.status();
  if (Status s = registry.Add(minted->record); !s.ok()) return s;
  Log("minted the bootstrap ADMIN key " + minted->record.TokenPrefix() + "…; token in " +
      o.admin_key_file + " (mode 0600)");
  return Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  // Debian builds abseil without NDEBUG, so every absl::Mutex inside gRPC also keeps a
  // global lock-order graph (GraphCycles, with stack traces) and takes its spinlock: 3-4 %
  // of the machine in a profile of 64 unary clients (docs/benchmarks.md). A release build
  // of abseil has it off; aynid's own locks are std::mutex and never tracked.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Result<server::Invocation> invocation = server::LoadConfig(
      std::vector<std::string>(argv + 1, argv + argc), server::ProcessEnvironment());
  if (!invocation.ok()) return Fail(invocation.status().message());
  if (invocation->help) {
    std::cout << server::ConfigUsage();
    return 0;
  }
  const Options& opt = invocation->config;
  // Certificate and key are read and checked before anything else starts.
  Result<std::optional<server::ServerTlsFiles>> tls = server::LoadServerTls(opt);
  if (!tls.ok()) return Fail("tls: " + tls.status().message());

  Log("database " + server::DescribeDsn(opt.pg_dsn));
  Result<std::unique_ptr<server::PgStore>> opened = server::PgStore::Open(opt.pg_dsn);
  if (!opened.ok()) return Fail("database: " + opened.status().ToString());
  server::PgStore& store = **opened;

  Result<bool> got = store.TryAcquireWriterLock();
  if (!got.ok()) return Fail("writer lock: " + got.status().ToString());
  if (!*got) {
    std::cout << "aynid: waiting for the writer lock (another aynid is the writer)" << std::endl;
    if (Status s = store.AcquireWriterLock(); !s.ok()) return Fail("writer lock: " + s.ToString());
  }

  Result<std::vector<StoredBatch>> journal = store.LoadJournal();
  if (!journal.ok()) return Fail("load journal: " + journal.status().ToString());
  Ledger ledger;
  if (Status s = ledger.Restore(*journal); !s.ok()) return Fail("restore: " + s.ToString());
  if (std::vector<Fault> f = CheckInvariants(ledger); !f.empty()) {
    return Fail("invariants broken, refusing to start:\n" + FormatFaults(f));
  }
  Result<std::vector<server::AccountDiff>> diffs = store.VerifyAccountsAgainst(ledger);
  if (!diffs.ok()) return Fail("verify accounts: " + diffs.status().ToString());
  if (!diffs->empty()) {
    std::string m = "stored accounts differ from the journal, refusing to start:";
    for (const server::AccountDiff& d : *diffs) {
      m += "\n  account " + std::to_string(d.id.value()) + ": " + d.what;
    }
    return Fail(m);
  }
  Log("restored " + std::to_string(journal->size()) + " batches, " +
      std::to_string(ledger.account_count()) + " accounts");

  Result<std::unique_ptr<auth::PgKeyStore>> key_store = auth::PgKeyStore::Open(opt.pg_dsn);
  if (!key_store.ok()) return Fail("key store: " + key_store.status().ToString());
  auth::InMemoryKeyRegistry keys;
  if (Status s = LoadKeys(**key_store, keys, opt); !s.ok())
    return Fail("api keys: " + s.ToString());

  // The clearing key signs audits and cycle reports; created on first start.
  std::optional<server::api::Signer> signer;
  if (opt.clearing_key_file.empty()) {
    signer = server::api::Signer::Ephemeral("clearing (ephemeral)");
    Log("no --clearing-key-file: audits, cycle reports, card certificates and load tokens are "
        "signed with keys that live only as long as this process (clearing public key " +
        signer->public_key_hex() + ")");
  } else {
    Result<server::api::Signer> loaded =
        server::api::Signer::LoadOrCreate(opt.clearing_key_file, "clearing");
    if (!loaded.ok()) return Fail("clearing key: " + loaded.status().ToString());
    signer = std::move(loaded).value();
    Log("clearing key " + signer->public_key_hex() + " from " + opt.clearing_key_file);
  }
  // The banks' card keys derive from the clearing key (server/api/bank_keys.h).
  const server::api::BankKeys bank_keys(*signer);
  server::PgReader reader(opt.pg_dsn);
  server::PgReader audit_reader(opt.pg_dsn);

  // Signals go to sigwait in main only: block them before any thread starts (the
  // first is the writer's). Until here — a standby waiting for the lock included — the
  // default action applies: nothing is held that needs a graceful stop.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server::Writer writer(ledger, store);
  if (Status s = writer.Start(); !s.ok()) return Fail("writer: " + s.ToString());
  server::service::TaskThread key_thread;
  server::service::TaskThread read_thread;
  server::service::TaskThread audit_thread;
  // Sends the writer's replies, so the writer goes on to its next batch (core.h).
  server::service::TaskThread finish_thread;
  // Verifies card and kiosk signatures on every core (SPEC §9), off the writer thread.
  server::service::WorkPool card_pool;

  server::service::Core core(server::service::ServiceContext{
      .writer = &writer,
      .ledger = &ledger,
      .keys = &keys,
      .key_store = key_store->get(),
      .key_thread = &key_thread,
      .signer = &*signer,
      .read_thread = &read_thread,
      .reader = &reader,
      .audit_thread = &audit_thread,
      .audit_reader = &audit_reader,
      .finish_thread = &finish_thread,
      .bank_keys = &bank_keys,
      .card_pool = &card_pool,
  });
  server::service::LedgerServiceImpl ledger_service(core);
  server::service::ReservesServiceImpl reserves_service(core);
  server::service::ClearingServiceImpl clearing_service(core);
  server::service::SetupServiceImpl setup_service(core);
  server::service::AuditServiceImpl audit_service(core);
  server::service::SetoffServiceImpl setoff_service(core);
  server::service::LoanServiceImpl loan_service(core);
  server::service::CardServiceImpl card_service(core);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(opt.listen, server::MakeServerCredentials(tls.value()), &port);
  int unix_bound = 0;
  if (!opt.listen_unix.empty()) {
    // A stale socket of a previous run would make the bind fail.
    if (::unlink(opt.listen_unix.c_str()) != 0 && errno != ENOENT) {
      return Fail("cannot remove the old socket " + opt.listen_unix + ": " + std::strerror(errno));
    }
    builder.AddListeningPort("unix:" + opt.listen_unix, server::MakeServerCredentials(tls.value()),
                             &unix_bound);
  }
  builder.RegisterService(&ledger_service);
  builder.RegisterService(&reserves_service);
  builder.RegisterService(&clearing_service);
  builder.RegisterService(&setup_service);
  builder.RegisterService(&audit_service);
  builder.RegisterService(&setoff_service);
  builder.RegisterService(&loan_service);
  builder.RegisterService(&card_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0 || (!opt.listen_unix.empty() && unix_bound == 0)) {
    writer.Stop();
    return Fail("cannot listen on " + opt.listen +
                (opt.listen_unix.empty() ? "" : " and unix:" + opt.listen_unix));
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  const std::string host = opt.listen.substr(0, opt.listen.rfind(':'));
  Log(opt.tls() ? "TLS with the certificate in " + opt.tls_cert_file
                : std::string("plaintext (loopback only)"));
  if (!opt.listen_unix.empty()) Log("also listening on unix:" + opt.listen_unix);
  std::cout << "aynid: listening on " << host << ":" << port << std::endl;

  int sig = 0;
  sigwait(&signals, &sig);
  Log(std::string("stopping (") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ")");
  server->GetHealthCheckService()->SetServingStatus(false);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  key_thread.Stop();
  read_thread.Stop();
  audit_thread.Stop();
  card_pool.Stop();
  writer.Stop();
  finish_thread.Stop();  // after the writer: what it answered while stopping is sent
  const server::WriterStats st = writer.stats();
  if (st.batches_committed > 0) {
    const double n = static_cast<double>(st.batches_committed);
    char line[256];
    std::snprintf(line, sizeof line,
                  "writer: %llu batches, %.1f commands a batch; per batch %.3f ms in memory, "
                  "%.3f ms in PostgreSQL, %.3f ms answering",
                  static_cast<unsigned long long>(st.batches_committed),
                  static_cast<double>(st.commands_committed) / n, st.apply_ns / n / 1e6,
                  st.append_ns / n / 1e6, st.deliver_ns / n / 1e6);
    Log(line);
  }
  Log("stopped");
  return 0;
}
