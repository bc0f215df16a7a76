// The database schema's versioned migrations (server/storage/migrations/NNNN_name.sql),
// embedded into the binary at build time (CMake generates migrations.cc), so an installed
// aynid needs no source tree. PgStore::Open applies the missing ones in version order.
// Immutable data; thread-safe.
#pragma once

#include <span>

namespace ayni::server {

struct Migration {
  int version;       // 1, 2, 3, … without gaps (the file name's number)
  const char* name;  // the file name, e.g. "0001_initial.sql"
  const char* sql;   // the whole file, run in one transaction with the bookkeeping row
};

// Every migration in ascending version order.
std::span<const Migration> Migrations();

}  // namespace ayni::server
