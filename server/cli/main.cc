// `ayni`: the admin CLI (SPEC §7). A gRPC client only: it holds no database credentials.
// Parses the command line, reads the API key (--key-file or AYNI_KEY; never printed),
// opens a channel and runs one command. The channel is TLS when --tls-ca (or AYNI_TLS_CA)
// names the CA to trust, else plaintext, which is allowed to a loopback server only.
#include <sodium.h>

#include <cstdlib>
#include <iostream>
#include <utility>

#include "proto/client/channel.h"
#include "proto/client/output.h"
#include "server/cli/args.h"
#include "server/cli/runner.h"

namespace {

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ayni::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto inv = ParseArgs(args, Env("AYNI_SERVER"), Env("AYNI_TLS_CA"));
  if (!inv.ok()) {
    // Scripts that asked for JSON get one object even for a usage error.
    for (const auto& a : args) {
      if (a == "--json") {
        JsonObject e;
        e.Add("message", inv.status().message());
        JsonObject o;
        o.AddRaw("error", e.str()).Add("exit_code", int64_t{kExitUsage});
        std::cout << o.str() << '\n';
        break;
      }
    }
    std::cerr << "ayni: " << inv.status().message() << '\n';
    return kExitUsage;
  }
  if (inv->help) {
    std::cout << UsageText();
    return kExitOk;
  }
  const bool tls = !inv->global.tls_ca.empty();
  if (ayni::Status s = CheckServerAddress(inv->global.server, tls); !s.ok()) {
    std::cerr << "ayni: " << s.message() << '\n';
    return kExitUsage;
  }
  if (sodium_init() < 0) {
    std::cerr << "ayni: libsodium failed to initialise\n";
    return kExitLocal;
  }

  std::string token;
  if (!inv->global.key_file.empty()) {
    auto t = ReadApiKeyFile(inv->global.key_file);
    if (!t.ok()) {
      std::cerr << "ayni: " << t.status().message() << '\n';
      return kExitLocal;
    }
    token = std::move(t).value();
  } else {
    std::string raw = Env("AYNI_KEY");
    if (raw.empty()) {
      std::cerr << "ayni: no API key: pass --key-file FILE or set AYNI_KEY\n";
      return kExitUsage;
    }
    auto t = CleanToken(raw, "AYNI_KEY");
    sodium_memzero(raw.data(), raw.size());
    if (!t.ok()) {
      std::cerr << "ayni: " << t.status().message() << '\n';
      return kExitLocal;
    }
    token = std::move(t).value();
  }

  auto channel = OpenChannel({inv->global.server, inv->global.tls_ca, inv->global.tls_server_name});
  if (!channel.ok()) {
    std::cerr << "ayni: " << channel.status().message() << '\n';
    return kExitLocal;
  }

  RunContext ctx;
  ctx.channel = *channel;
  ctx.token = token;
  ctx.global = inv->global;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;
  const int code = RunCommand(inv->command, ctx);
  std::cout.flush();
  return code;
}
