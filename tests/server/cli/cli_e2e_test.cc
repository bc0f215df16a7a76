// The `ayni` binary driving a real `aynid` (127.0.0.1, port 0) on a fresh PostgreSQL
// database made from AYNI_TEST_PG (deploy/pg.sh): a small scripted day — set-up, deposits,
// payments within and across banks, a refusal, an exact retry, a redemption with fee,
// funding and distribution (one refused for coverage), a clearing cycle, the audits, keys —
// checking exit codes and the amounts shown. Without AYNI_TEST_PG the test fails, never
// skips.
#include <fcntl.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Output {
  int code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs `argv` with extra environment, waits, captures stdout and stderr through files.
Output Exec(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            const std::string& dir) {
  const std::string out_path = dir + "/out.txt";
  const std::string err_path = dir + "/err.txt";
  const pid_t pid = fork();
  if (pid == 0) {
    const int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(o, 1);
    dup2(e, 2);
    for (const auto& kv : env) putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  Output r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  return r;
}

class CliE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("AYNI_TEST_PG");
    ASSERT_TRUE(base != nullptr && *base != '\0')
        << "AYNI_TEST_PG is not set. Run ./deploy/test.sh, or: deploy/pg.sh start DIR && "
           "export AYNI_TEST_PG=\"$(deploy/pg.sh dsn DIR)\"";
    base_ = base;
    db_ = "ayni_cli_e2e_" + std::to_string(getpid());
    Admin("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
    Admin("CREATE DATABASE " + db_);
    char tmpl[] = "/tmp/ayni-cli-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    key_file_ = dir_ + "/admin.key";
    StartServer();
  }

  void TearDown() override {
    if (server_pid_ > 0) {
      kill(server_pid_, SIGTERM);
      int status = 0;
      waitpid(server_pid_, &status, 0);
    }
    if (!db_.empty()) Admin("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
    if (!dir_.empty()) {
      for (const char* f : {"/admin.key", "/auditor.key", "/out.txt", "/err.txt", "/aynid.log"}) {
        unlink((dir_ + f).c_str());
      }
      rmdir(dir_.c_str());
    }
  }

  void Admin(const std::string& sql) {
    pqxx::connection c(base_);
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  }

  // Starts aynid on port 0 and waits for its "listening on HOST:PORT" line.
  void StartServer() {
    int pipefd[2];
    ASSERT_EQ(pipe(pipefd), 0);
    const std::string dsn = base_ + " dbname=" + db_;
    const std::string log = dir_ + "/aynid.log";
    server_pid_ = fork();
    if (server_pid_ == 0) {
      dup2(pipefd[1], 1);
      const int l = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(l, 2);
      close(pipefd[0]);
      execl(AYNID_PATH, AYNID_PATH, "--pg-dsn", dsn.c_str(), "--listen", "127.0.0.1:0",
            "--admin-key-file", key_file_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(pipefd[1]);
    std::string line;
    char ch;
    while (read(pipefd[0], &ch, 1) == 1) {
      if (ch == '\n') {
        if (line.rfind("aynid: listening on ", 0) == 0) break;
        line.clear();
      } else {
        line += ch;
      }
    }
    close(pipefd[0]);
    ASSERT_EQ(line.rfind("aynid: listening on ", 0), 0u) << "aynid did not start; its log:\n"
                                                         << ReadFile(log);
    server_ = line.substr(std::string("aynid: listening on ").size());
  }

  Output Ayni(std::vector<std::string> args, const std::string& key_file = "") {
    args.insert(args.begin(), {AYNI_PATH, "--key-file", key_file.empty() ? key_file_ : key_file});
    Output o = Exec(args, {"AYNI_SERVER=" + server_}, dir_);
    const std::string token = ReadFile(key_file_);
    const std::string secret = token.substr(token.rfind('_') + 1, 20);
    EXPECT_EQ(o.out.find(secret), std::string::npos) << "the key was printed";
    EXPECT_EQ(o.err.find(secret), std::string::npos) << "the key was printed";
    return o;
  }

  // Runs a --json command expecting exit `code`; returns the parsed object.
  google::protobuf::Struct Json(std::vector<std::string> args, int code = 0) {
    args.insert(args.begin(), "--json");
    Output o = Ayni(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(o.code, code) << joined << "\nstdout: " << o.out << "\nstderr: " << o.err;
    google::protobuf::Struct st;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(o.out, &st).ok())
        << joined << ": not one JSON object: " << o.out;
    return st;
  }

  static std::string Shown(const google::protobuf::Struct& s, const std::string& key) {
    auto it = s.fields().find("shown");
    if (it == s.fields().end()) return "";
    auto f = it->second.struct_value().fields().find(key);
    return f == it->second.struct_value().fields().end() ? "" : f->second.string_value();
  }
  static std::string Str(const google::protobuf::Struct& s, const std::string& key) {
    auto f = s.fields().find(key);
    return f == s.fields().end() ? "" : f->second.string_value();
  }

  std::string base_, db_, dir_, key_file_, server_;
  pid_t server_pid_ = -1;
};

TEST_F(CliE2eTest, ScriptedDay) {
  Output o = Ayni({"init", "BRL", "--scale", "100"});
  ASSERT_EQ(o.code, 0) << o.out << o.err;

  ASSERT_EQ(Ayni({"bank", "create", "PALMAS", "Banco Palmas"}).code, 0);
  ASSERT_EQ(Ayni({"bank", "create", "SOL", "Banco Sol"}).code, 0);
  ASSERT_EQ(Ayni({"currency", "create", "PALMAS", "PALMA"}).code, 0);
  ASSERT_EQ(Ayni({"currency", "create", "SOL", "SOLAR", "--fee-bp", "200"}).code, 0);
  o = Ayni({"bank", "create", "PALMAS", "Again"});
  EXPECT_EQ(o.code, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("REASON_CODE_EXISTS"), std::string::npos) << o.err;

  const std::string ana = Shown(Json({"member", "create", "PALMAS", "Ana"}), "member id");
  const std::string bia = Shown(Json({"member", "create", "SOL", "Bia"}), "member id");
  ASSERT_FALSE(ana.empty());
  ASSERT_FALSE(bia.empty());
  const std::string ana_acct = Shown(Json({"account", "open", ana, "PALMA"}), "account id");
  const std::string bia_acct =
      Shown(Json({"account", "open", bia, "SOLAR", "--merchant"}), "account id");
  ASSERT_FALSE(ana_acct.empty());
  ASSERT_FALSE(bia_acct.empty());

  // Deposit, then a cross-bank payment.
  o = Ayni({"issue", ana_acct, "100.00"});
  ASSERT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("100.00 PALMA"), std::string::npos) << o.out;
  auto pay = Json({"pay", ana_acct, bia_acct, "30", "--memo", "feira"});
  EXPECT_EQ(Str(pay, "reason"), "REASON_OK");
  EXPECT_EQ(Shown(pay, "cross bank"), "yes");
  const std::string rid = Str(pay, "request_id");
  ASSERT_EQ(rid.size(), 32u);

  // The exact retry is a no-op that succeeds; too many decimals never reach the server.
  o = Ayni({"pay", ana_acct, bia_acct, "30", "--memo", "feira", "--request-id", rid});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("already done"), std::string::npos) << o.out;
  o = Ayni({"pay", ana_acct, bia_acct, "1.005"});
  EXPECT_EQ(o.code, 64) << o.out << o.err;
  o = Ayni({"pay", ana_acct, bia_acct, "70.01"});
  EXPECT_EQ(o.code, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("REASON_INSUFFICIENT_FUNDS"), std::string::npos) << o.err;

  o = Ayni({"account", "show", ana_acct});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("70.00 PALMA"), std::string::npos) << o.out;
  o = Ayni({"account", "show", bia_acct});
  EXPECT_NE(o.out.find("30.00 SOLAR"), std::string::npos) << o.out;

  // Clearing moves 30.00 BRL of reserve from PALMAS to SOL.
  o = Ayni({"clearing", "run"});
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("30.00 BRL"), std::string::npos) << o.out;

  // Redemption with the 2% fee.
  o = Ayni({"redeem", bia_acct, "10.00"});
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("0.20 BRL"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("9.80 BRL"), std::string::npos) << o.out;

  // A municipal programme funds PALMAS' reserve; distributing more than the excess fails.
  EXPECT_EQ(Ayni({"fund-reserve", "PALMAS", "50.00", "--memo", "programa municipal"}).code, 0);
  EXPECT_EQ(Ayni({"distribute", ana_acct, "50.00"}).code, 0);
  o = Ayni({"distribute", ana_acct, "0.01"});
  EXPECT_EQ(o.code, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("REASON_COVERAGE_WOULD_BREAK"), std::string::npos) << o.err;

  o = Ayni({"coverage"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("PALMAS"), std::string::npos) << o.out;
  o = Ayni({"audit", "reserves"});
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("every bank COVERED"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("signed by clearing"), std::string::npos) << o.out;
  o = Ayni({"audit", "journal"});
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("OK"), std::string::npos) << o.out;

  // Ana's statement: deposit, payment, distribution, with the balance after each.
  o = Ayni({"--csv", "account", "statement", ana_acct});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find(",ISSUE,"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(",100.00,100.00,"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(",-30.00,70.00,feira"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(",50.00,120.00,"), std::string::npos) << o.out;

  o = Ayni({"--csv", "bank", "list"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out.rfind("ID,CODE,NAME,CURRENCIES\n", 0), 0u) << o.out;
  o = Ayni({"account", "list", "--bank", "PALMAS"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("RESERVE"), std::string::npos) << o.out;

  // Keys: an auditor key written to a file, used, then revoked.
  const std::string auditor_file = dir_ + "/auditor.key";
  auto key =
      Json({"key", "create", "auditor", "deployment", "night audit", "--token-file", auditor_file});
  const std::string key_id = Shown(key, "key id");
  ASSERT_FALSE(key_id.empty());
  struct stat st;
  ASSERT_EQ(stat(auditor_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  o = Ayni({"bank", "list"}, auditor_file);
  EXPECT_EQ(o.code, 0) << o.err;
  o = Ayni({"bank", "create", "X", "Y"}, auditor_file);
  EXPECT_EQ(o.code, 3) << o.out << o.err;
  EXPECT_NE(o.err.find("PERMISSION_DENIED"), std::string::npos) << o.err;
  EXPECT_EQ(Ayni({"key", "revoke", key_id, "--actor", "admin", "--reason", "test"}).code, 0);
  o = Ayni({"key", "list", "--all"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("revoked"), std::string::npos) << o.out;
}

}  // namespace
