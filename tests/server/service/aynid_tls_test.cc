// aynid's TLS and configuration end to end: certificates made at test time by
// deploy/gen-tls.sh (GEN_TLS_PATH), the real aynid (AYNID_PATH) on port 0 against a fresh
// database made from AYNI_TEST_PG, and the real `ayni` (AYNI_PATH) dialling it.
// Children get a clean environment (PATH plus what each test sets), so nothing from the
// caller's AYNI_* variables leaks in. Without AYNI_TEST_PG every test FAILS (never skips).
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
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
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kExitTransport = 3;  // ayni: "3 transport error"

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
}

// The base64 body of a PEM private key: what must never appear in any output.
std::string KeyBody(const std::string& pem_path) {
  std::istringstream in(ReadFile(pem_path));
  std::string line, body;
  while (std::getline(in, line)) {
    if (line.rfind("-----", 0) != 0) body += line;
  }
  return body.substr(0, 40);
}

// A child process with a clean environment: PATH plus `env` ("NAME=value").
// stdout on a pipe (read line by line), stderr into `err_path`.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& env,
        const std::string& err_path) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    std::vector<std::string> envs = env;
    envs.push_back(std::string("PATH=") +
                   (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"));
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
      const int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fds[1], 1);
      ::dup2(e, 2);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> a, v;
      for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
      for (const auto& s : envs) v.push_back(const_cast<char*>(s.c_str()));
      a.push_back(nullptr);
      v.push_back(nullptr);
      ::execve(a[0], a.data(), v.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~Child() {
    Signal(SIGKILL);
    if (out_ >= 0) ::close(out_);
  }
  // Waits (bounded) for a stdout line starting with `prefix`; the rest of it, or nullopt
  // when the child closed stdout (exited) or the bound ran out.
  std::optional<std::string> WaitLine(const std::string& prefix, int timeout_s = 60) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    for (;;) {
      for (size_t nl; (nl = buf_.find('\n')) != std::string::npos;) {
        std::string line = buf_.substr(0, nl);
        out_text_ += line + "\n";
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
  // Reads stdout to its end and reaps the child (bounded: killed after timeout_s).
  // The exit code (128 + signal when killed).
  int Wait(int timeout_s = 60) {
    WaitLine("\x01never\x01", timeout_s);
    out_text_ += buf_;
    buf_.clear();
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    int st = 0;
    while (pid_ > 0 && ::waitpid(pid_, &st, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > end) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  // Sends `sig` and reaps; the wait status (-1 when already reaped).
  int Signal(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return st;
  }
  const std::string& out() const { return out_text_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buf_;
  std::string out_text_;
};

struct Output {
  int code = -1;
  std::string out;
  std::string err;
};

// grpc.health.v1.Health/Check on `channel` (HealthCheckRequest{} is empty bytes).
grpc::Status HealthCheck(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub generic(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice empty("", 0);
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                    [&done](grpc::Status s) { done.set_value(std::move(s)); });
  return done.get_future().get();
}

class AynidTlsTest : public ::testing::Test {
 protected:
  // Two certificate sets: `tls` (names ayni.test, localhost, 127.0.0.1) and `other`, a
  // second CA with its own server pair, for the wrong-CA and mismatched-key cases.
  static void SetUpTestSuite() {
    char dir[] = "/tmp/aynid_tls_certs_XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    certs_ = dir;
    const std::vector<std::pair<std::string, std::string>> sets = {{"tls", "ayni.test"},
                                                                   {"other", "other.test"}};
    for (const auto& [sub, name] : sets) {
      Child gen({GEN_TLS_PATH, certs_ + "/" + sub, name}, {}, certs_ + "/gen-" + sub + ".err");
      ASSERT_EQ(gen.Wait(), 0) << ReadFile(certs_ + "/gen-" + sub + ".err");
    }
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(certs_); }

  void SetUp() override {
    const char* base = std::getenv("AYNI_TEST_PG");
    ASSERT_TRUE(base != nullptr && *base != '\0')
        << "AYNI_TEST_PG is not set. Run ./deploy/test.sh, or: deploy/pg.sh start DIR && "
           "export AYNI_TEST_PG=\"$(deploy/pg.sh dsn DIR)\"";
    base_ = base;
    static int counter = 0;
    db_ = "ayni_tls_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    Admin("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
    Admin("CREATE DATABASE " + db_);
    dsn_ = base_ + " dbname=" + db_;
    char dir[] = "/tmp/aynid_tls_test_XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    key_file_ = dir_ + "/admin.key";
  }
  void TearDown() override {
    if (!db_.empty()) Admin("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  void Admin(const std::string& sql) {
    pqxx::connection c(base_);
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  }
  // Whether aynid touched the database (its migrations create schema_migrations).
  bool Migrated() {
    pqxx::connection c(dsn_);
    pqxx::nontransaction tx(c);
    return !tx.exec1("SELECT to_regclass('schema_migrations') IS NULL")[0].as<bool>();
  }

  static std::string Cert(const std::string& set, const std::string& file) {
    return certs_ + "/" + set + "/" + file;
  }
  std::vector<std::string> TlsFlags(const std::string& set = "tls") const {
    return {"--tls-cert-file", Cert(set, "server.pem"), "--tls-key-file", Cert(set, "server.key")};
  }

  // Starts aynid with `args` after the binary; stderr into dir_/aynid.err.
  std::unique_ptr<Child> StartAynid(const std::vector<std::string>& args,
                                    const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {AYNID_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<Child>(argv, env, dir_ + "/aynid.err");
  }
  std::string AynidErr() const { return ReadFile(dir_ + "/aynid.err"); }

  // aynid expected to refuse at start: its exit code and stderr.
  Output RunAynid(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    std::unique_ptr<Child> c = StartAynid(args, env);
    Output o;
    o.code = c->Wait();
    o.out = c->out();
    o.err = AynidErr();
    return o;
  }

  Output Ayni(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {AYNI_PATH, "--key-file", key_file_};
    argv.insert(argv.end(), args.begin(), args.end());
    Child c(argv, env, dir_ + "/ayni.err");
    Output o;
    o.code = c.Wait();
    o.out = c.out();
    o.err = ReadFile(dir_ + "/ayni.err");
    return o;
  }

  static std::string Port(const std::string& addr) { return addr.substr(addr.rfind(':') + 1); }

  static inline std::string certs_;
  std::string base_, db_, dsn_, dir_, key_file_;
};

// ---- TLS on loopback -----------------------------------------------------------------------

TEST_F(AynidTlsTest, TlsServesTheCliWithTheCaAndRefusesPlaintextAndOtherCas) {
  std::vector<std::string> args = {"--pg-dsn",         dsn_,     "--listen", "127.0.0.1:0",
                                   "--admin-key-file", key_file_};
  for (const auto& f : TlsFlags()) args.push_back(f);
  std::unique_ptr<Child> server = StartAynid(args);
  const std::optional<std::string> addr = server->WaitLine("aynid: listening on ");
  ASSERT_TRUE(addr.has_value()) << AynidErr();
  ASSERT_EQ(addr->rfind("127.0.0.1:", 0), 0u) << *addr;

  // The CLI over TLS, trusting the CA by flag, then by AYNI_TLS_CA.
  Output o =
      Ayni({"--server", *addr, "--tls-ca", Cert("tls", "ca.pem"), "init", "BRL", "--scale", "100"});
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  o = Ayni({"--json", "bank", "list"},
           {"AYNI_SERVER=" + *addr, "AYNI_TLS_CA=" + Cert("tls", "ca.pem")});
  EXPECT_EQ(o.code, 0) << o.out << o.err;

  // Plaintext to a TLS server: a transport error, not an answer.
  o = Ayni({"--server", *addr, "--json", "bank", "list"});
  EXPECT_EQ(o.code, kExitTransport) << o.out << o.err;
  // A CA that did not sign the server's certificate: refused by the client.
  o = Ayni({"--server", *addr, "--tls-ca", Cert("other", "ca.pem"), "--json", "bank", "list"});
  EXPECT_EQ(o.code, kExitTransport) << o.out << o.err;
  // A CA file that is not a certificate: refused before dialling.
  o = Ayni({"--server", *addr, "--tls-ca", Cert("tls", "ca.key"), "bank", "list"});
  EXPECT_NE(o.code, 0);
  EXPECT_NE(o.err.find("cannot read a PEM CA certificate"), std::string::npos) << o.err;
  EXPECT_EQ(o.err.find(KeyBody(Cert("tls", "ca.key"))), std::string::npos) << o.err;

  // The same with a raw gRPC channel: health answers over TLS only.
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFile(Cert("tls", "ca.pem"));
  EXPECT_TRUE(HealthCheck(grpc::CreateChannel(*addr, grpc::SslCredentials(ssl))).ok());
  const grpc::Status plain =
      HealthCheck(grpc::CreateChannel(*addr, grpc::InsecureChannelCredentials()));
  EXPECT_EQ(plain.error_code(), grpc::StatusCode::UNAVAILABLE) << plain.error_message();

  const int st = server->Signal(SIGTERM);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  const std::string log = AynidErr();
  EXPECT_NE(log.find("TLS with the certificate in " + Cert("tls", "server.pem")), std::string::npos)
      << log;
  EXPECT_EQ(log.find(KeyBody(Cert("tls", "server.key"))), std::string::npos) << log;
}

// ---- TLS makes a non-loopback address acceptable ---------------------------------------------

TEST_F(AynidTlsTest, TlsAcceptsAllInterfacesAndChecksTheServerName) {
  std::vector<std::string> args = {"--pg-dsn",         dsn_,     "--listen", "0.0.0.0:0",
                                   "--admin-key-file", key_file_};
  for (const auto& f : TlsFlags()) args.push_back(f);
  std::unique_ptr<Child> server = StartAynid(args);
  const std::optional<std::string> addr = server->WaitLine("aynid: listening on ");
  ASSERT_TRUE(addr.has_value()) << AynidErr();
  ASSERT_EQ(addr->rfind("0.0.0.0:", 0), 0u) << *addr;
  const std::string port = Port(*addr);

  const std::string ca = Cert("tls", "ca.pem");
  Output o =
      Ayni({"--server", "127.0.0.1:" + port, "--tls-ca", ca, "init", "BRL", "--scale", "100"});
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  o = Ayni({"--server", "localhost:" + port, "--tls-ca", ca, "--json", "bank", "list"});
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  // 127.0.0.2 is not in the certificate: refused, unless the name to check is given.
  o = Ayni({"--server", "127.0.0.2:" + port, "--tls-ca", ca, "--json", "bank", "list"});
  EXPECT_EQ(o.code, kExitTransport) << o.out << o.err;
  o = Ayni({"--server", "127.0.0.2:" + port, "--tls-ca", ca, "--tls-server-name", "ayni.test",
            "--json", "bank", "list"});
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  o = Ayni({"--server", "127.0.0.2:" + port, "--tls-ca", ca, "--tls-server-name", "wrong.test",
            "--json", "bank", "list"});
  EXPECT_EQ(o.code, kExitTransport) << o.out << o.err;
  // Without TLS the CLI still refuses a non-loopback server before dialling.
  o = Ayni({"--server", "192.0.2.1:" + port, "bank", "list"});
  EXPECT_NE(o.code, 0);
  EXPECT_NE(o.err.find("--tls-ca"), std::string::npos) << o.err;
}

// ---- Refusals at start ---------------------------------------------------------------------

TEST_F(AynidTlsTest, RefusesANonLoopbackAddressWithoutTls) {
  for (const char* listen : {"0.0.0.0:0", "[::]:0"}) {
    Output o = RunAynid({"--pg-dsn", dsn_, "--listen", listen, "--admin-key-file", key_file_});
    EXPECT_EQ(o.code, 1) << listen << o.err;
    EXPECT_NE(o.err.find(std::string("refusing to listen on ") + listen + " without TLS"),
              std::string::npos)
        << o.err;
    EXPECT_NE(o.err.find("tls_cert_file and tls_key_file"), std::string::npos) << o.err;
    EXPECT_EQ(o.out.find("listening"), std::string::npos) << o.out;
  }
  EXPECT_FALSE(Migrated());  // refused before the database was touched
}

TEST_F(AynidTlsTest, RefusesIncompleteUnreadableOrMismatchedTlsFiles) {
  struct Case {
    std::vector<std::string> tls;
    std::string want;
  };
  const std::string cert = Cert("tls", "server.pem");
  const std::string key = Cert("tls", "server.key");
  const std::vector<Case> cases = {
      {{"--tls-cert-file", cert}, "only tls_cert_file is set"},
      {{"--tls-key-file", key}, "only tls_key_file is set"},
      {{"--tls-cert-file", cert, "--tls-key-file", Cert("other", "server.key")},
       "tls_key_file " + Cert("other", "server.key") +
           " is not the private key of the certificate in " + cert},
      {{"--tls-cert-file", dir_ + "/missing.pem", "--tls-key-file", key},
       "tls_cert_file " + dir_ + "/missing.pem: No such file or directory"},
      {{"--tls-cert-file", cert, "--tls-key-file", dir_ + "/missing.key"},
       "tls_key_file " + dir_ + "/missing.key: No such file or directory"},
      {{"--tls-cert-file", key, "--tls-key-file", key}, "not a PEM certificate"},
      {{"--tls-cert-file", cert, "--tls-key-file", cert}, "not an unencrypted PEM private key"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"--pg-dsn",         dsn_,     "--listen", "127.0.0.1:0",
                                     "--admin-key-file", key_file_};
    args.insert(args.end(), c.tls.begin(), c.tls.end());
    Output o = RunAynid(args);
    EXPECT_EQ(o.code, 1) << c.want << "\n" << o.err;
    EXPECT_NE(o.err.find(c.want), std::string::npos) << o.err;
    EXPECT_EQ(o.err.find(KeyBody(key)), std::string::npos) << o.err;
    EXPECT_EQ(o.err.find(KeyBody(Cert("other", "server.key"))), std::string::npos) << o.err;
  }
  // Only one of the two in the environment is refused the same way.
  Output o = RunAynid({"--pg-dsn", dsn_}, {"AYNI_TLS_CERT_FILE=" + cert});
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("only tls_cert_file is set"), std::string::npos) << o.err;
  EXPECT_FALSE(Migrated());
}

TEST_F(AynidTlsTest, NeverPrintsTheDsnPassword) {
  Output o = RunAynid({"--pg-dsn",
                       "host=/nonexistent-ayni-socket-dir dbname=nodb user=nobody "
                       "password=hunter2secret",
                       "--admin-key-file", key_file_});
  EXPECT_EQ(o.code, 1) << o.err;
  EXPECT_NE(o.err.find("database host=/nonexistent-ayni-socket-dir dbname=nodb user=nobody"),
            std::string::npos)
      << o.err;
  EXPECT_EQ(o.err.find("hunter2secret"), std::string::npos) << o.err;
  EXPECT_EQ(o.out.find("hunter2secret"), std::string::npos) << o.out;
}

// ---- The config file ------------------------------------------------------------------------

TEST_F(AynidTlsTest, ConfigFileGivesTheListenAddressTlsAndDatabase) {
  const std::string conf = dir_ + "/aynid.conf";
  WriteFile(conf,
            "# written by the test\n"
            "pg_dsn = \"" +
                dsn_ +
                "\"\n"
                "listen = localhost:0   # not the default 127.0.0.1:7443\n"
                "admin_key_file = " +
                key_file_ +
                "\n"
                "tls_cert_file = '" +
                Cert("tls", "server.pem") +
                "'\n"
                "tls_key_file = " +
                Cert("tls", "server.key") +
                "\n"
                "clearing_key_file = " +
                dir_ + "/clearing.key\n");
  {
    std::unique_ptr<Child> server = StartAynid({"--config", conf});
    const std::optional<std::string> addr = server->WaitLine("aynid: listening on ");
    ASSERT_TRUE(addr.has_value()) << AynidErr();
    EXPECT_EQ(addr->rfind("localhost:", 0), 0u) << *addr;
    Output o = Ayni(
        {"--server", *addr, "--tls-ca", Cert("tls", "ca.pem"), "init", "BRL", "--scale", "100"});
    EXPECT_EQ(o.code, 0) << o.out << o.err;
    o = Ayni({"--server", *addr, "--json", "bank", "list"});
    EXPECT_EQ(o.code, kExitTransport) << "TLS came from the file: plaintext must fail";
    EXPECT_EQ(server->Signal(SIGTERM), 0);
  }
  EXPECT_TRUE(Migrated());

  // AYNI_CONFIG names the file; a flag overrides its listen address.
  {
    std::unique_ptr<Child> server =
        StartAynid({"--listen", "127.0.0.1:0"}, {"AYNI_CONFIG=" + conf});
    const std::optional<std::string> addr = server->WaitLine("aynid: listening on ");
    ASSERT_TRUE(addr.has_value()) << AynidErr();
    EXPECT_EQ(addr->rfind("127.0.0.1:", 0), 0u) << *addr;
    Output o =
        Ayni({"--server", *addr, "--tls-ca", Cert("tls", "ca.pem"), "--json", "bank", "list"});
    EXPECT_EQ(o.code, 0) << o.out << o.err;
  }

  // A bad line in the file: refused with FILE:LINE, nothing started.
  WriteFile(conf, "pg_dsn = \"" + dsn_ + "\"\nlisten = 127.0.0.1:0\nlisten_port = 7443\n");
  Output o = RunAynid({"--config", conf});
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find(conf + ":3: unknown key \"listen_port\""), std::string::npos) << o.err;
}

TEST_F(AynidTlsTest, HelpListsEverySetting) {
  Output o = RunAynid({"--help"});
  EXPECT_EQ(o.code, 0) << o.err;
  for (const char* word : {"--config", "--tls-cert-file", "--tls-key-file", "--clearing-key-file",
                           "AYNI_CONFIG", "AYNI_PG_DSN"}) {
    EXPECT_NE(o.out.find(word), std::string::npos) << word << "\n" << o.out;
  }
}

}  // namespace
