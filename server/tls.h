// aynid's transport credentials (SPEC §6: "TLS from config; plaintext only on loopback").
//
// With tls_cert_file and tls_key_file set, the server speaks TLS only: the PEM files are
// read once at start, before the database is touched, checked (each parses; the key belongs to the
// certificate) and given to grpc::SslServerCredentials. Client certificates are not requested:
// clients authenticate with API keys. Without them, plaintext credentials, which Validate
// (server/config.h) allows on a loopback address only.
//
// The private key is never put into a message or a log: errors name the file and the
// reason only. Thread-compatible; called once in main.
#pragma once

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <optional>
#include <string>

#include "clearing/status.h"
#include "server/config.h"

namespace ayni::server {

// PEM files are small; a bigger file is the wrong file.
inline constexpr size_t kPemFileBytesMax = 1024 * 1024;

struct ServerTlsFiles {
  std::string cert_chain_pem;  // the certificate first, then any intermediates
  std::string private_key_pem;
};

// Reads both files and checks them. FAILED_PRECONDITION naming the file when one cannot
// be read, is not PEM of the expected kind, or when the key does not match the certificate.
Result<ServerTlsFiles> LoadServerTlsFiles(const std::string& cert_file,
                                          const std::string& key_file);

// What aynid will listen with, read and checked: the TLS pair when c.tls(), else nullopt
// (plaintext). Makes no gRPC call, so it can run before anything else starts.
Result<std::optional<ServerTlsFiles>> LoadServerTls(const Config& c);

// The credentials for grpc::ServerBuilder: SslServerCredentials with `tls`, else insecure.
// Wipes the private key held in `tls`. Call it where the server is built: the first gRPC
// call may start gRPC's threads, which must inherit aynid's blocked signal mask.
std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(std::optional<ServerTlsFiles>& tls);

}  // namespace ayni::server
