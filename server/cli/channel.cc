#include "server/cli/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <sodium.h>

#include <fstream>
#include <sstream>

#include "server/cli/args.h"
#include "server/cli/runner.h"

namespace ayni::cli {

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
