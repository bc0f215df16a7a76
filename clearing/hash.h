// BLAKE2b helpers over libsodium: the journal's hash chain and derived transfer ids.
// Pure functions; thread-safe once libsodium is initialised (EnsureSodium()).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "clearing/ids.h"

namespace ayni {

using Hash256 = std::array<uint8_t, 32>;

// Calls sodium_init() once; aborts if libsodium cannot start.
void EnsureSodium();

Hash256 Blake2b256(std::span<const uint8_t> a, std::span<const uint8_t> b = {});
std::string HexOf(std::span<const uint8_t> bytes);

// Leg i of request r gets id BLAKE2b-128("ayni-leg" ‖ r ‖ be32(i)): a retried request maps
// to the same legs, and no client-chosen request id can equal a transfer id.
TransferId DeriveTransferId(const RequestId& request, uint32_t leg);

// A stable 64-bit digest of text (FNV-1a), for idempotency fingerprints only.
uint64_t Fingerprint64(std::string_view text);

}  // namespace ayni
