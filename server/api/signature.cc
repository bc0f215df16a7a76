#include "server/api/signature.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "clearing/check.h"
#include "clearing/hash.h"

namespace ayni::server::api {
namespace {

std::string SignedBytes(const std::string& payload) {
  std::string b(kSignatureDomain, sizeof(kSignatureDomain));  // with its NUL
  b += payload;
  return b;
}

std::string Deterministic(const google::protobuf::MessageLite& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream raw(&out);
    google::protobuf::io::CodedOutputStream coded(&raw);
    coded.SetSerializationDeterministic(true);
    AYNI_CHECK(m.SerializeToCodedStream(&coded));
  }
  return out;
}

int HexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Signer Signer::FromSeed(const std::array<uint8_t, 32>& seed, const std::string& key_name) {
  AYNI_CHECK(sodium_init() >= 0);
  Signer s;
  crypto_sign_seed_keypair(s.public_key_.data(), s.secret_key_.data(), seed.data());
  s.key_name_ = key_name;
  return s;
}

std::array<uint8_t, 32> Signer::DeriveSubkey(uint64_t subkey_id,
                                             const char (&context)[9]) const {
  static_assert(crypto_kdf_KEYBYTES == 32 && crypto_kdf_CONTEXTBYTES == 8);
  std::array<uint8_t, 32> out{};
  // libsodium's secret key is seed ‖ public key: the seed is the master key.
  AYNI_CHECK(crypto_kdf_derive_from_key(out.data(), out.size(), subkey_id, context,
                                        secret_key_.data()) == 0);
  return out;
}

Signer Signer::Ephemeral(const std::string& key_name) {
  AYNI_CHECK(sodium_init() >= 0);
  std::array<uint8_t, 32> seed{};
  randombytes_buf(seed.data(), seed.size());
  Signer s = FromSeed(seed, key_name);
  sodium_memzero(seed.data(), seed.size());
  return s;
}

Result<Signer> Signer::LoadOrCreate(const std::string& path, const std::string& key_name) {
  AYNI_CHECK(sodium_init() >= 0);
  std::array<uint8_t, 32> seed{};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    randombytes_buf(seed.data(), seed.size());
    const std::string line = HexOf(seed) + "\n";
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Status::Internal(path + ": cannot create: " + std::strerror(errno));
    const bool ok = ::fchmod(fd, 0600) == 0 &&
                    ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                    ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return Status::Internal(path + ": cannot write the new key");
    Signer s = FromSeed(seed, key_name);
    sodium_memzero(seed.data(), seed.size());
    return s;
  }
  if (fd < 0) return Status::Internal(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
    ::close(fd);
    return Status::FailedPrecondition(path +
                                      ": the key file must not be readable by group or others "
                                      "(chmod 600)");
  }
  char buf[80];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  size_t len = n > 0 ? static_cast<size_t>(n) : 0;
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) --len;
  bool good = len == 64;
  for (size_t i = 0; good && i < 32; ++i) {
    const int hi = HexNibble(buf[2 * i]);
    const int lo = HexNibble(buf[2 * i + 1]);
    good = hi >= 0 && lo >= 0;
    seed[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  sodium_memzero(buf, sizeof buf);
  if (!good) {
    return Status::FailedPrecondition(path + ": not a clearing key (expected 64 hex digits)");
  }
  Signer s = FromSeed(seed, key_name);
  sodium_memzero(seed.data(), seed.size());
  return s;
}

void Signer::Sign(const google::protobuf::MessageLite& message, v1::Signature* out) const {
  out->Clear();
  std::string payload = Deterministic(message);
  const std::string bytes = SignedBytes(payload);
  std::array<uint8_t, crypto_sign_BYTES> sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const uint8_t*>(bytes.data()),
                       bytes.size(), secret_key_.data());
  out->set_public_key(public_key_.data(), public_key_.size());
  out->set_signature(sig.data(), sig.size());
  out->set_payload(std::move(payload));
  out->set_key_name(key_name_);
}

std::string Signer::public_key_hex() const { return HexOf(public_key_); }

Status VerifySignature(const v1::Signature& s) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialise");
  if (s.public_key().size() != crypto_sign_PUBLICKEYBYTES ||
      s.signature().size() != crypto_sign_BYTES) {
    return Status::DataLoss("signature: missing or malformed (public key " +
                            std::to_string(s.public_key().size()) + " bytes, signature " +
                            std::to_string(s.signature().size()) + " bytes)");
  }
  const std::string bytes = SignedBytes(s.payload());
  if (crypto_sign_verify_detached(reinterpret_cast<const uint8_t*>(s.signature().data()),
                                  reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                  reinterpret_cast<const uint8_t*>(s.public_key().data())) != 0) {
    return Status::DataLoss("signature: does not verify against the payload and public key");
  }
  return Status::Ok();
}

}  // namespace ayni::server::api
