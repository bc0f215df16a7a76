// `ayni`: the admin CLI (SPEC §7). A gRPC client only: it holds no database credentials.
// Parses the command line, reads the API key (--key-file or AYNI_KEY; never printed),
// opens a channel and runs one command. The channel is TLS when --tls-ca (or AYNI_TLS_CA)
// names the CA to trust, else plaintext, which is allowed to a loopback server only.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <sodium.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "server/cli/args.h"
#include "server/cli/output.h"
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

  std::string raw;
  std::string source;
  if (!inv->global.key_file.empty()) {
    source = inv->global.key_file;
    std::ifstream f(inv->global.key_file);
    if (!f) {
      std::cerr << "ayni: cannot read the key file " << inv->global.key_file << '\n';
      return kExitLocal;
    }
    std::ostringstream ss;
    ss << f.rdbuf();
    raw = ss.str();
  } else {
    source = "AYNI_KEY";
    raw = Env("AYNI_KEY");
    if (raw.empty()) {
      std::cerr << "ayni: no API key: pass --key-file FILE or set AYNI_KEY\n";
      return kExitUsage;
    }
  }
  auto token = CleanToken(raw, source);
  sodium_memzero(raw.data(), raw.size());
  if (!token.ok()) {
    std::cerr << "ayni: " << token.status().message() << '\n';
    return kExitLocal;
  }

  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  grpc::ChannelArguments channel_args;
  // A set-off report carries one notice per invoice (≈ 50 bytes each): a run over the
  // SPEC §9 figure of 100k invoices is ≈ 5 MB, past gRPC's 4 MB default for replies.
  constexpr int kReplyBytesMax = 256 << 20;
  channel_args.SetMaxReceiveMessageSize(kReplyBytesMax);
  if (tls) {
    std::ifstream f(inv->global.tls_ca);
    std::ostringstream ca;
    ca << f.rdbuf();
    if (!f || ca.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      std::cerr << "ayni: cannot read a PEM CA certificate from " << inv->global.tls_ca << '\n';
      return kExitLocal;
    }
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca.str();
    credentials = grpc::SslCredentials(ssl);
    if (!inv->global.tls_server_name.empty()) {
      channel_args.SetSslTargetNameOverride(inv->global.tls_server_name);
    }
  }

  RunContext ctx;
  ctx.channel = grpc::CreateCustomChannel(inv->global.server, credentials, channel_args);
  ctx.token = *token;
  ctx.global = inv->global;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;
  const int code = RunCommand(inv->command, ctx);
  std::cout.flush();
  return code;
}
