#include "proto/client/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <sodium.h>

#include <fstream>
#include <sstream>

#include "clearing/amount_text.h"  // ParseU64

namespace ayni::cli {

Status CheckServerAddress(std::string_view server, bool tls) {
  // A Unix socket on this host (aynid --listen-unix): local, like loopback.
  if (server.substr(0, 5) == "unix:") {
    if (server.size() < 7 || server[5] != '/') {
      return Status::InvalidArgument("--server unix:PATH needs an absolute path, got \"" +
                                     std::string(server) + "\"");
    }
    return Status::Ok();
  }
  std::string_view host;
  std::string_view port;
  if (!server.empty() && server.front() == '[') {
    const size_t close = server.find(']');
    if (close == std::string_view::npos || close + 1 >= server.size() || server[close + 1] != ':') {
      return Status::InvalidArgument("--server must be HOST:PORT, got \"" + std::string(server) +
                                     "\"");
    }
    host = server.substr(1, close - 1);
    port = server.substr(close + 2);
  } else {
    const size_t colon = server.rfind(':');
    if (colon == std::string_view::npos || server.find(':') != colon) {
      return Status::InvalidArgument("--server must be HOST:PORT, got \"" + std::string(server) +
                                     "\"");
    }
    host = server.substr(0, colon);
    port = server.substr(colon + 1);
  }
  auto p = ParseU64(port);
  if (host.empty() || !p || *p == 0 || *p > 65535) {
    return Status::InvalidArgument("--server must be HOST:PORT with a port 1 … 65535, got \"" +
                                   std::string(server) + "\"");
  }
  if (tls) return Status::Ok();
  bool loopback = host == "localhost" || host == "::1";
  if (!loopback && host.substr(0, 4) == "127.") {
    // 127.a.b.c with three numeric parts ≤ 255.
    size_t parts = 0;
    bool good = true;
    std::string_view rest = host.substr(4);
    while (good) {
      const size_t dot = rest.find('.');
      auto v = ParseU64(rest.substr(0, dot));
      good = v && *v <= 255;
      ++parts;
      if (dot == std::string_view::npos) break;
      rest = rest.substr(dot + 1);
    }
    loopback = good && parts == 3;
  }
  if (!loopback) {
    return Status::FailedPrecondition(
        "refusing to talk to " + std::string(host) +
        " in plaintext: only loopback addresses (127.0.0.1, ::1, localhost) are allowed "
        "without TLS; pass --tls-ca FILE (or set AYNI_TLS_CA) with the CA that signed the "
        "server's certificate (TLS)");
  }
  return Status::Ok();
}

Result<std::string> CleanToken(std::string_view raw, std::string_view source) {
  size_t b = 0;
  size_t e = raw.size();
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (b < e && space(raw[b])) ++b;
  while (e > b && space(raw[e - 1])) --e;
  std::string_view t = raw.substr(b, e - b);
  if (t.empty()) return Status::InvalidArgument(std::string(source) + " holds no API key");
  for (char c : t) {
    if (c <= 0x20 || c >= 0x7F) {
      return Status::InvalidArgument(std::string(source) +
                                     " does not hold one API key (spaces, several lines or "
                                     "non-ASCII characters)");
    }
  }
  return std::string(t);
}

Result<std::shared_ptr<grpc::Channel>> OpenChannel(const ChannelOptions& o) {
  const bool tls = !o.tls_ca.empty();
  if (Status s = CheckServerAddress(o.server, tls); !s.ok()) return s;
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  grpc::ChannelArguments channel_args;
  // A set-off report carries one notice per invoice (≈ 50 bytes each): a run over the
  // SPEC §9 figure of 100k invoices is ≈ 5 MB, past gRPC's 4 MB default for replies.
  constexpr int kReplyBytesMax = 256 << 20;
  channel_args.SetMaxReceiveMessageSize(kReplyBytesMax);
  if (tls) {
    std::ifstream f(o.tls_ca);
    std::ostringstream ca;
    ca << f.rdbuf();
    if (!f || ca.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return Status::FailedPrecondition("cannot read a PEM CA certificate from " + o.tls_ca);
    }
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca.str();
    credentials = grpc::SslCredentials(ssl);
    if (!o.tls_server_name.empty()) channel_args.SetSslTargetNameOverride(o.tls_server_name);
  }
  return grpc::CreateCustomChannel(o.server, credentials, channel_args);
}

Result<std::string> ReadApiKeyFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Status::FailedPrecondition("cannot read the key file " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  std::string raw = ss.str();
  Result<std::string> token = CleanToken(raw, path);
  sodium_memzero(raw.data(), raw.size());
  return token;
}

}  // namespace ayni::cli
