// Helpers shared by PgStore and PgReader (libpqxx 6.4); internal to server/storage.
//
// Errors: libpqxx throws; TranslateCurrent maps the exception in flight to a Status at
// the storage boundary (STYLE: errors of kind 4): a broken or refused connection, or a
// server going away (SQLSTATE classes 08, 57) and serialization failures (40) →
// UNAVAILABLE; anything else → INTERNAL with the server's message.
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "clearing/status.h"

namespace ayni::server::pg {

bool IsUnavailableState(const std::string& sqlstate);

// Translates the exception in flight (call only inside a catch block). `what` says which
// operation failed.
Status TranslateCurrent(std::string_view what);

std::vector<uint8_t> ToVector(const pqxx::field& f);

inline int64_t I64(uint64_t v) { return static_cast<int64_t>(v); }

}  // namespace ayni::server::pg
