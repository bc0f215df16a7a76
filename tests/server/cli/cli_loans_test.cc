// The `ayni loans …` commands (issue 7) through the `ayni` binary against a real `aynid`
// on a fresh PostgreSQL database from AYNI_TEST_PG: a product, a solidarity group, a
// disbursement to the group, a repayment typed as an exact decimal, refusals with their
// exit codes, show/list/portfolio as tables, --json and --csv, and the loan book in
// `ayni audit reserves`. The fixture is cli_e2e_test.cc's.
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

class CliLoansTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("AYNI_TEST_PG");
    ASSERT_TRUE(base != nullptr && *base != '\0')
        << "AYNI_TEST_PG is not set. Run ./deploy/test.sh, or: deploy/pg.sh start DIR && "
           "export AYNI_TEST_PG=\"$(deploy/pg.sh dsn DIR)\"";
    base_ = base;
    db_ = "ayni_cli_loans_" + std::to_string(getpid());
    Admin("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
    Admin("CREATE DATABASE " + db_);
    char tmpl[] = "/tmp/ayni-cli-loans-XXXXXX";
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

TEST_F(CliLoansTest, GroupLoanFromProductToPortfolio) {
  ASSERT_EQ(Ayni({"init", "BRL", "--scale", "100"}).code, 0);
  ASSERT_EQ(Ayni({"bank", "create", "PALMAS", "Banco Palmas"}).code, 0);
  ASSERT_EQ(Ayni({"currency", "create", "PALMAS", "PALMA"}).code, 0);
  std::vector<std::string> members;
  for (const char* name : {"Ana", "Caio", "Dora"}) {
    members.push_back(Shown(Json({"member", "create", "PALMAS", name}), "member id"));
    ASSERT_FALSE(members.back().empty());
  }
  ASSERT_EQ(Ayni({"fund-reserve", "PALMAS", "1000.00"}).code, 0);

  // Usage errors never reach the server.
  Output o = Ayni({"loans", "product", "create", "PALMAS", "Producao", "BRL", "--max", "1e3",
                   "--instalments", "4", "--period-days", "30"});
  EXPECT_EQ(o.code, 64) << o.out << o.err;
  o = Ayni({"loans", "disburse", "1", "10.00"});
  EXPECT_EQ(o.code, 64) << o.err;
  EXPECT_NE(o.err.find("exactly one of --member and --group"), std::string::npos) << o.err;

  auto product = Json({"loans", "product", "create", "PALMAS", "Producao", "BRL", "--max", "600.00",
                       "--rate-bp", "100", "--instalments", "4", "--period-days", "30"});
  EXPECT_EQ(Str(product, "reason"), "REASON_OK");
  EXPECT_EQ(Shown(product, "max principal"), "600.00 BRL");
  const std::string product_id = Shown(product, "product id");
  ASSERT_FALSE(product_id.empty());
  // A rate above the 1%-a-month cap: INVALID_ARGUMENT naming the field, exit 3.
  o = Ayni({"loans", "product", "create", "PALMAS", "Usura", "BRL", "--max", "10", "--rate-bp",
            "101", "--instalments", "1", "--period-days", "30"});
  EXPECT_EQ(o.code, 3) << o.out << o.err;
  EXPECT_NE(o.err.find("monthly_rate_bp"), std::string::npos) << o.err;
  o = Ayni({"loans", "product", "list", "--bank", "PALMAS"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("Producao"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("600.00"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("1.00%"), std::string::npos) << o.out;

  auto group = Json({"loans", "group", "create", "PALMAS", "Mulheres da feira", members[0],
                     members[1], members[2], "--liable", members[0] + "," + members[1]});
  EXPECT_EQ(Str(group, "reason"), "REASON_OK");
  const std::string group_id = Shown(group, "group id");
  ASSERT_FALSE(group_id.empty());

  // Above the product's maximum: refused, exit 2.
  o = Ayni({"loans", "disburse", product_id, "600.01", "--group", group_id});
  EXPECT_EQ(o.code, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("REASON_PRINCIPAL_ABOVE_MAX"), std::string::npos) << o.err;
  auto loan = Json({"loans", "disburse", product_id, "400.00", "--group", group_id});
  EXPECT_EQ(Str(loan, "reason"), "REASON_OK");
  EXPECT_EQ(Shown(loan, "principal"), "400.00 BRL");
  const std::string loan_id = Shown(loan, "loan id");
  ASSERT_FALSE(loan_id.empty());

  // Interest 4.00 of the first period, then 100.00 of principal; more than the payoff is
  // refused; three decimals are a usage error.
  o = Ayni({"loans", "repay", loan_id, "1.005"});
  EXPECT_EQ(o.code, 64) << o.err;
  o = Ayni({"loans", "repay", loan_id, "404.01"});
  EXPECT_EQ(o.code, 2) << o.err;
  EXPECT_NE(o.err.find("REASON_OVERPAYMENT"), std::string::npos) << o.err;
  auto repaid = Json({"loans", "repay", loan_id, "104.00"});
  EXPECT_EQ(Str(repaid, "reason"), "REASON_OK");
  EXPECT_EQ(Shown(repaid, "interest paid (total)"), "4.00 BRL");
  EXPECT_EQ(Shown(repaid, "outstanding"), "300.00 BRL");

  o = Ayni({"loans", "show", loan_id});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("group " + group_id), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("300.00 BRL"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("schedule (BRL)"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("3.00"), std::string::npos) << o.out;  // interest of instalment 2
  o = Ayni({"--csv", "loans", "show", loan_id});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out.rfind("N,DUE,PRINCIPAL,INTEREST\n", 0), 0u) << o.out;
  EXPECT_NE(o.out.find(",100.00,4.00\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(",100.00,1.00\n"), std::string::npos) << o.out;

  o = Ayni({"--csv", "loans", "list", "--bank", "PALMAS", "--member", members[2]});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find(loan_id + "," + product_id + ",group " + group_id + ",BRL,400.00,300.00,"),
            std::string::npos)
      << o.out;
  o = Ayni({"--csv", "loans", "list", "--bank", "PALMAS", "--status", "repaid"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out.find("\n"), o.out.size() - 1) << "header only: " << o.out;

  o = Ayni({"loans", "portfolio"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("REPAYMENT_RATE"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("300.00"), std::string::npos) << o.out;
  auto portfolio = Json({"loans", "portfolio", "--bank", "PALMAS"});
  const auto& banks = portfolio.fields().at("reply").struct_value().fields().at("banks");
  ASSERT_EQ(banks.list_value().values_size(), 1);
  const auto& bank = banks.list_value().values(0).struct_value().fields();
  EXPECT_EQ(bank.at("outstanding_minor").string_value(), "30000");  // int64 as a JSON string
  EXPECT_EQ(bank.at("repayment_rate_bp").number_value(), 10000);

  // The audit shows the loan book: LOANS 300.00 and PAR30 0.00%.
  o = Ayni({"--csv", "audit", "reserves"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find(",300.00,"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(",0.00%,COVERED,0.00"), std::string::npos) << o.out;

  // Write-off: a reason is required; then the loan is WRITTEN-OFF.
  o = Ayni({"loans", "write-off", loan_id});
  EXPECT_EQ(o.code, 64) << o.err;
  o = Ayni({"loans", "write-off", loan_id, "--reason", "grupo dissolvido"});
  ASSERT_EQ(o.code, 0) << o.err;
  o = Ayni({"loans", "list", "--bank", "PALMAS", "--status", "written-off"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("WRITTEN-OFF"), std::string::npos) << o.out;
  o = Ayni({"loans", "show", "999"});
  EXPECT_EQ(o.code, 3) << o.err;
  EXPECT_NE(o.err.find("NOT_FOUND"), std::string::npos) << o.err;
}

}  // namespace
