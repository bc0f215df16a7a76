// Signed reports (SPEC §4, §7): the clearing key signs reserve audits and cycle reports.
//
// What is signed: Signature.payload holds the report message itself, serialized
// deterministically with its own `signature` field unset; Signature.signature is the
// Ed25519 signature (libsodium crypto_sign_detached) over the bytes
//
//   "ayni-signed-report-v1\0" ‖ payload
//
// (a domain-separation prefix, so these bytes never mean anything else). A verifier
// checks the signature against the clearing public key it trusts, then parses the
// payload: that parse is the report, whatever else a reply carries beside it.
//
// The clearing key file holds the 32-byte Ed25519 seed as 64 hex digits and a newline,
// mode 0600; a file readable by group or others is refused.
// Thread-safety: a Signer is immutable after creation; Sign may run on any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "ayni/v1/common.pb.h"
#include "clearing/status.h"

namespace ayni::server::api {

inline constexpr char kSignatureDomain[] = "ayni-signed-report-v1";  // + its NUL

class Signer {
 public:
  // Reads the key at `path`; when the file does not exist, generates a key and writes it
  // there (mode 0600, fsync'd) first.
  static Result<Signer> LoadOrCreate(const std::string& path, const std::string& key_name);
  // A key that lives only as long as the process (nothing configured).
  static Signer Ephemeral(const std::string& key_name);

  // Fills `out` for `message` (whose signature field must be unset).
  void Sign(const google::protobuf::MessageLite& message, v1::Signature* out) const;
  const std::array<uint8_t, 32>& public_key() const { return public_key_; }
  std::string public_key_hex() const;
  // A 32-byte key derived from this key's seed with libsodium's crypto_kdf_derive_from_key
  // (BLAKE2b keyed by the seed; `context` is 8 bytes, e.g. "AYNIBANK"): the same clearing
  // key file always yields the same subkeys, so a standby signs as the writer did.
  std::array<uint8_t, 32> DeriveSubkey(uint64_t subkey_id, const char (&context)[9]) const;

 private:
  Signer() = default;
  static Signer FromSeed(const std::array<uint8_t, 32>& seed, const std::string& key_name);
  std::array<uint8_t, 32> public_key_{};
  std::array<uint8_t, 64> secret_key_{};
  std::string key_name_;
};

// OK when `s` is a valid signature of its payload by its public key; otherwise
// DATA_LOSS saying what does not verify.
Status VerifySignature(const v1::Signature& s);

}  // namespace ayni::server::api
