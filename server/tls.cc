#include "server/tls.h"

#include <grpcpp/security/server_credentials.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace ayni::server {
namespace {

Result<std::string> ReadPem(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    return Status::FailedPrecondition(std::string(what) + " " + path + ": " + std::strerror(errno));
  }
  std::string text;
  char buf[4096];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    text.append(buf, static_cast<size_t>(f.gcount()));
    if (text.size() > kPemFileBytesMax) {
      return Status::FailedPrecondition(std::string(what) + " " + path + ": larger than " +
                                        std::to_string(kPemFileBytesMax) + " bytes");
    }
  }
  if (f.bad()) return Status::FailedPrecondition(std::string(what) + " " + path + ": read error");
  if (text.empty()) return Status::FailedPrecondition(std::string(what) + " " + path + ": empty");
  return text;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::unique_ptr<BIO, BioFree> MemBio(const std::string& s) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())));
}

}  // namespace

Result<ServerTlsFiles> LoadServerTlsFiles(const std::string& cert_file,
                                          const std::string& key_file) {
  Result<std::string> cert = ReadPem(cert_file, "tls_cert_file");
  if (!cert.ok()) return cert.status();
  Result<std::string> key = ReadPem(key_file, "tls_key_file");
  if (!key.ok()) return key.status();

  std::unique_ptr<X509, X509Free> x509(
      PEM_read_bio_X509(MemBio(*cert).get(), nullptr, nullptr, nullptr));
  // A passphrase callback that refuses: an encrypted key cannot be used unattended.
  pem_password_cb* no_passphrase = [](char*, int, int, void*) { return 0; };
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
      PEM_read_bio_PrivateKey(MemBio(*key).get(), nullptr, no_passphrase, nullptr));
  ERR_clear_error();  // OpenSSL's queue may name key material: never reported
  if (!x509) {
    return Status::FailedPrecondition("tls_cert_file " + cert_file +
                                      ": not a PEM certificate (BEGIN CERTIFICATE)");
  }
  if (!pkey) {
    return Status::FailedPrecondition("tls_key_file " + key_file +
                                      ": not an unencrypted PEM private key");
  }
  if (X509_check_private_key(x509.get(), pkey.get()) != 1) {
    ERR_clear_error();
    return Status::FailedPrecondition("tls_key_file " + key_file +
                                      " is not the private key of the certificate in " + cert_file);
  }
  return ServerTlsFiles{.cert_chain_pem = std::move(cert.value()),
                        .private_key_pem = std::move(key.value())};
}

Result<std::optional<ServerTlsFiles>> LoadServerTls(const Config& c) {
  if (!c.tls()) return std::optional<ServerTlsFiles>();
  Result<ServerTlsFiles> files = LoadServerTlsFiles(c.tls_cert_file, c.tls_key_file);
  if (!files.ok()) return files.status();
  return std::optional<ServerTlsFiles>(std::move(files.value()));
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(std::optional<ServerTlsFiles>& tls) {
  if (!tls) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back({tls->private_key_pem, tls->cert_chain_pem});
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::SslServerCredentials(options);
  // gRPC keeps its own copy; ours are wiped rather than left in freed memory.
  for (std::string* key :
       {&tls->private_key_pem, &options.pem_key_cert_pairs.front().private_key}) {
    OPENSSL_cleanse(key->data(), key->size());
  }
  return credentials;
}

}  // namespace ayni::server
