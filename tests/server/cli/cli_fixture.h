// The fixture of the `ayni` binary's end-to-end tests: a fresh PostgreSQL database made
// from AYNI_TEST_PG (the test FAILS without it), a real `aynid` (AYNID_PATH) on 127.0.0.1
// port 0 with its bootstrap admin key, and helpers that run `ayni` (AYNI_PATH) and parse
// its --json output. Every run checks that the key's secret is never printed.
#pragma once

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
#include <utility>
#include <vector>

namespace ayni::cli_test {

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

class CliFixture : public ::testing::Test {
 protected:
  // `name` tells this test's database and temporary directory apart from others'.
  explicit CliFixture(std::string name) : name_(std::move(name)) {}

  void SetUp() override {
    const char* base = std::getenv("AYNI_TEST_PG");
    ASSERT_TRUE(base != nullptr && *base != '\0')
        << "AYNI_TEST_PG is not set. Run ./deploy/test.sh, or: deploy/pg.sh start DIR && "
           "export AYNI_TEST_PG=\"$(deploy/pg.sh dsn DIR)\"";
    base_ = base;
    db_ = "ayni_cli_" + name_ + "_" + std::to_string(getpid());
    Admin("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
    Admin("CREATE DATABASE " + db_);
    std::string tmpl = "/tmp/ayni-cli-" + name_ + "-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
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

  std::string name_, base_, db_, dir_, key_file_, server_;
  pid_t server_pid_ = -1;
};

}  // namespace ayni::cli_test
