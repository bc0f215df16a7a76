// server/config.h: the config file's syntax and every refusal (with FILE:LINE), the
// precedence flag > environment > file > default for every key, validation, DSN
// descriptions without passwords. Pure, no database: the file is written to a temp dir.
#include "server/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace ayni::server {
namespace {

using Map = std::map<std::string, std::string>;

TEST(ConfigTextTest, ParsesKeysCommentsBlanksAndQuotes) {
  const std::string text =
      "# aynid.conf\n"
      "\n"
      "   # an indented comment\n"
      "pg_dsn = host=/run/postgresql dbname=ayni password=a#b\n"
      "listen=0.0.0.0:7443   # a trailing comment\n"
      "admin_key_file = \"/etc/ayni/admin key\"  # quoted keeps the blank\n"
      "tls_cert_file = '/etc/ayni/c\\\"ert.pem'\n"
      "tls_key_file = \"/etc/ayni/k\\\"e\\\\y.pem\"\r\n"
      "\tclearing_key_file\t=\t\n";
  Result<Map> r = ParseConfigText(text, "a.conf");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->at("pg_dsn"), "host=/run/postgresql dbname=ayni password=a#b");
  EXPECT_EQ(r->at("listen"), "0.0.0.0:7443");
  EXPECT_EQ(r->at("admin_key_file"), "/etc/ayni/admin key");
  EXPECT_EQ(r->at("tls_cert_file"), "/etc/ayni/c\\\"ert.pem");  // single quotes: literal
  EXPECT_EQ(r->at("tls_key_file"), "/etc/ayni/k\"e\\y.pem");
  EXPECT_EQ(r->at("clearing_key_file"), "");
  EXPECT_EQ(r->size(), 6u);
}

TEST(ConfigTextTest, EmptyAndCommentOnlyFilesHaveNoSettings) {
  for (const char* text : {"", "\n\n", "# only\n  # comments\n", "listen = # nothing\n"}) {
    Result<Map> r = ParseConfigText(text, "x.conf");
    ASSERT_TRUE(r.ok()) << text;
    if (std::string(text).find("listen") != std::string::npos) {
      EXPECT_EQ(r->at("listen"), "") << text;
    } else {
      EXPECT_TRUE(r->empty()) << text;
    }
  }
}

// Every refusal names FILE:LINE and what is wrong, and never quotes a value.
TEST(ConfigTextTest, RefusesEachMalformedLineWithFileAndLine) {
  struct Case {
    std::string text;
    std::string where;
    std::string what;
  };
  const std::vector<Case> cases = {
      {"listen = 127.0.0.1:1\nbogus = 1\n", "f.conf:2: ", "unknown key \"bogus\""},
      {"\n\nlisten = a:1\n# c\nlisten = b:2\n",
       "f.conf:5: ", "duplicate key \"listen\" (first on line 3)"},
      {"pg_dsn secret-dsn-text\n", "f.conf:1: ", "malformed line: expected key = value"},
      {"= secret\n", "f.conf:1: ", "malformed line: no key before '='"},
      {"Listen = x:1\n", "f.conf:1: ", "a key is lower-case letters"},
      {"tls key file = x\n", "f.conf:1: ", "a key is lower-case letters"},
      {"#\npg_dsn = \"password=secret\n", "f.conf:2: ", "unterminated quoted value"},
      {"pg_dsn = 'password=secret\n", "f.conf:1: ", "unterminated quoted value"},
      {"pg_dsn = \"password=secret\" more\n", "f.conf:1: ", "text after the closing quote"},
      {"pg_dsn = \"pass\\nword=secret\"\n", "f.conf:1: ", "only \\\" and \\\\ are escapes"},
      {"listen = a\x01:1\n", "f.conf:1: ", "control character"},
      {"listen = a:1\npg_dsn = x\x7f\n", "f.conf:2: ", "control character"},
      {"pg_dsn = " + std::string(kConfigValueBytesMax + 1, 'p') + "\n",
       "f.conf:1: ", "longer than 4096 bytes"},
  };
  for (const Case& c : cases) {
    Result<Map> r = ParseConfigText(c.text, "f.conf");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.text;
    const std::string& m = r.status().message();
    EXPECT_EQ(m.rfind(c.where, 0), 0u) << m;
    EXPECT_NE(m.find(c.what), std::string::npos) << m;
    EXPECT_EQ(m.find("secret"), std::string::npos) << m;
  }
}

TEST(ConfigTextTest, RefusesAFileLargerThanTheLimit) {
  std::string text;
  while (text.size() <= kConfigFileBytesMax) text += "# padding padding padding\n";
  Result<Map> r = ParseConfigText(text, "big.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("big.conf: larger than"), std::string::npos);
}

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/ayni_config_test_XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/aynid.conf";
  }
  void TearDown() override {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  void Write(const std::string& text) {
    std::ofstream f(path_);
    f << text;
  }
  std::string dir_, path_;
};

// Each key from each source: a flag beats the environment, which beats the file, which
// beats the default.
TEST_F(ConfigFileTest, PrecedenceIsFlagThenEnvironmentThenFileThenDefaultForEveryKey) {
  struct Key {
    std::string key, flag, env;
    std::string Config::*field;
  };
  const std::vector<Key> keys = {
      {"pg_dsn", "--pg-dsn", "AYNI_PG_DSN", &Config::pg_dsn},
      {"listen", "--listen", "AYNI_LISTEN", &Config::listen},
      {"listen_unix", "--listen-unix", "AYNI_LISTEN_UNIX", &Config::listen_unix},
      {"admin_key_file", "--admin-key-file", "AYNI_ADMIN_KEY_FILE", &Config::admin_key_file},
      {"tls_cert_file", "--tls-cert-file", "AYNI_TLS_CERT_FILE", &Config::tls_cert_file},
      {"tls_key_file", "--tls-key-file", "AYNI_TLS_KEY_FILE", &Config::tls_key_file},
      {"clearing_key_file", "--clearing-key-file", "AYNI_CLEARING_KEY_FILE",
       &Config::clearing_key_file},
  };
  // Values that pass validation whichever source wins: loopback addresses, both TLS files.
  auto value = [](const Key& k, const std::string& source) {
    if (k.key == "listen") {
      return std::string(source == "flag"  ? "127.0.0.1:1"
                         : source == "env" ? "127.0.0.2:2"
                                           : "127.0.0.3:3");
    }
    if (k.key == "listen_unix") return "/run/ayni/" + source + ".sock";
    return source + "-" + k.key;
  };
  std::string file;
  Environment env;
  std::vector<std::string> flags;
  for (const Key& k : keys) {
    file += k.key + " = " + value(k, "file") + "\n";
    env[k.env] = value(k, "env");
    flags.push_back(k.flag);
    flags.push_back(value(k, "flag"));
  }
  Write(file);

  // All three sources: the flags win.
  std::vector<std::string> args = flags;
  args.insert(args.begin(), {"--config", path_});
  Result<Invocation> r = LoadConfig(args, env);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const Key& k : keys) EXPECT_EQ(r->config.*k.field, value(k, "flag")) << k.key;

  // Environment and file (named by AYNI_CONFIG): the environment wins.
  Environment with_config = env;
  with_config["AYNI_CONFIG"] = path_;
  r = LoadConfig({}, with_config);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const Key& k : keys) EXPECT_EQ(r->config.*k.field, value(k, "env")) << k.key;

  // An empty environment variable counts as unset: the file's value shows through.
  Environment empty_env = with_config;
  for (const Key& k : keys) empty_env[k.env] = "";
  r = LoadConfig({}, empty_env);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const Key& k : keys) EXPECT_EQ(r->config.*k.field, value(k, "file")) << k.key;

  // One key at a time from each source, the others from the file.
  for (const Key& k : keys) {
    Environment one_env = {{"AYNI_CONFIG", path_}, {k.env, value(k, "env")}};
    r = LoadConfig({}, one_env);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (const Key& o : keys) {
      EXPECT_EQ(r->config.*o.field, value(o, &o == &k ? "env" : "file")) << k.key << o.key;
    }
    r = LoadConfig({"--config=" + path_, k.flag + "=" + value(k, "flag")}, {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (const Key& o : keys) {
      EXPECT_EQ(r->config.*o.field, value(o, &o == &k ? "flag" : "file")) << k.key << o.key;
    }
  }

  // The --config flag beats AYNI_CONFIG.
  Environment bad_config = {{"AYNI_CONFIG", dir_ + "/missing.conf"}};
  r = LoadConfig({"--config", path_}, bad_config);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.listen, "127.0.0.3:3");
}

TEST_F(ConfigFileTest, DefaultsForALocalRun) {
  Result<Invocation> r = LoadConfig({"--pg-dsn", "dbname=ayni"}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.listen, "127.0.0.1:7443");
  EXPECT_EQ(r->config.admin_key_file, "");
  EXPECT_EQ(r->config.clearing_key_file, "");
  EXPECT_FALSE(r->config.tls());
  EXPECT_FALSE(r->help);
}

TEST_F(ConfigFileTest, FileErrorsNameTheFileAndLine) {
  Write("pg_dsn = dbname=ayni\nlisten = 127.0.0.1:1\nlisten = 127.0.0.1:2\n");
  Result<Invocation> r = LoadConfig({"--config", path_}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind(path_ + ":3: duplicate key \"listen\"", 0), 0u)
      << r.status().message();

  Write("pg_dsn = dbname=ayni\n\nkiosk_port = 1\n");
  r = LoadConfig({}, {{"AYNI_CONFIG", path_}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind(path_ + ":3: unknown key \"kiosk_port\"", 0), 0u)
      << r.status().message();

  r = LoadConfig({"--config", dir_ + "/missing.conf"}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(dir_ + "/missing.conf: No such file"), std::string::npos)
      << r.status().message();
}

TEST_F(ConfigFileTest, CommandLineRefusals) {
  struct Case {
    std::vector<std::string> args;
    std::string what;
  };
  const std::vector<Case> cases = {
      {{"--pg-dsn"}, "--pg-dsn needs a value"},
      {{"--pg-dsn", "a", "--pg-dsn", "b"}, "--pg-dsn given twice"},
      {{"--config", path_, "--config", path_}, "--config given twice"},
      {{"--config="}, "--config needs a file name"},
      {{"--pg-dsn", "a", "--port", "1"}, "unknown argument --port"},
      {{"--pg-dsn", "a", "extra"}, "unknown argument extra"},
      {{}, "no database: set pg_dsn in the config file, pass --pg-dsn or set AYNI_PG_DSN"},
  };
  for (const Case& c : cases) {
    Result<Invocation> r = LoadConfig(c.args, {});
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_NE(r.status().message().find(c.what), std::string::npos) << r.status().message();
  }
  Result<Invocation> help = LoadConfig({"--listen", "x", "--help"}, {});
  ASSERT_TRUE(help.ok());
  EXPECT_TRUE(help->help);
  for (const char* word :
       {"--config", "--pg-dsn", "AYNI_TLS_CERT_FILE", "clearing_key_file", "127.0.0.1:7443"}) {
    EXPECT_NE(ConfigUsage().find(word), std::string::npos) << word;
  }
}

TEST(ConfigValidateTest, TlsNeedsBothFilesAndPlaintextNeedsLoopback) {
  Config c;
  c.pg_dsn = "dbname=ayni";
  EXPECT_TRUE(Validate(c).ok());

  c.tls_cert_file = "server.pem";
  Status s = Validate(c);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("only tls_cert_file is set"), std::string::npos) << s.message();
  c.tls_cert_file.clear();
  c.tls_key_file = "server.key";
  s = Validate(c);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("only tls_key_file is set"), std::string::npos) << s.message();
  c.tls_key_file.clear();

  for (const char* remote : {"0.0.0.0:7443", "[::]:7443", "10.0.0.1:7443", "example.org:0",
                             "127.0.0.1.evil.example:7443", "128.0.0.1:1", "127.0.0.256:1"}) {
    c.listen = remote;
    s = Validate(c);
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << remote;
    EXPECT_NE(s.message().find("without TLS"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("--tls-cert-file"), std::string::npos) << s.message();
    c.tls_cert_file = "server.pem";
    c.tls_key_file = "server.key";
    EXPECT_TRUE(Validate(c).ok()) << remote;
    c.tls_cert_file.clear();
    c.tls_key_file.clear();
  }
  for (const char* local : {"127.0.0.1:0", "127.1.2.3:7443", "localhost:1", "[::1]:7443"}) {
    c.listen = local;
    EXPECT_TRUE(Validate(c).ok()) << local;
    EXPECT_TRUE(IsLoopbackListen(local)) << local;
  }
  for (const char* bad : {"127.0.0.1", ":7443", "127.0.0.1:", "127.0.0.1:65536", "[::1]7443",
                          "::1:7443", "127.0.0.1:x"}) {
    c.listen = bad;
    EXPECT_EQ(Validate(c).code(), StatusCode::kInvalidArgument) << bad;
  }
  c.listen = "127.0.0.1:0";
  for (const char* good : {"", "/run/ayni/aynid.sock"}) {
    c.listen_unix = good;
    EXPECT_TRUE(Validate(c).ok()) << good;
  }
  for (const std::string& bad : {std::string("aynid.sock"), "/" + std::string(107, 'a')}) {
    c.listen_unix = bad;
    EXPECT_EQ(Validate(c).code(), StatusCode::kInvalidArgument) << bad;
  }
  c.listen_unix.clear();
  c.pg_dsn.clear();
  EXPECT_EQ(Validate(c).code(), StatusCode::kInvalidArgument);
}

TEST(ConfigDsnTest, DescribeDsnNeverShowsThePassword) {
  struct Case {
    std::string dsn, want;
  };
  const std::vector<Case> cases = {
      {"host=/run/postgresql dbname=ayni user=ayni password=hunter2",
       "host=/run/postgresql dbname=ayni user=ayni"},
      {"postgresql://ayni:hunter2@db.example:5433/ayni?sslmode=require",
       "host=db.example port=5433 dbname=ayni user=ayni"},
      {"dbname=ayni password='hunter2 x' sslpassword=hunter2", "dbname=ayni"},
      {"password=hunter2", "(libpq defaults)"},
      {"host=x password='hunter2", "(unparseable connection string)"},
  };
  for (const Case& c : cases) {
    const std::string d = DescribeDsn(c.dsn);
    EXPECT_EQ(d, c.want) << c.dsn;
    EXPECT_EQ(d.find("hunter2"), std::string::npos) << d;
  }
}

}  // namespace
}  // namespace ayni::server
