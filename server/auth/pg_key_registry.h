// PgKeyStore: API key records (api_key.h KeyRecord) persisted in PostgreSQL, table
// api_keys (server/storage/migrations/0002_api_keys.sql).
//
// The server keeps every key in an InMemoryKeyRegistry (authentication reads it on every
// call without touching the database); this store loads that registry at start and is
// written through on create and revoke, by one worker thread off the gRPC threads. The
// schema is applied by PgStore::Open before this store is opened.
//
// Errors: libpqxx exceptions are caught here and translated: a broken connection →
// UNAVAILABLE (the next call reconnects), anything else → INTERNAL with the server's
// message. Never logs or stores a token; only the secret's hash is written.
// Thread-safety: none; one thread uses a PgKeyStore (it owns one connection).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clearing/ids.h"
#include "clearing/status.h"
#include "server/auth/api_key.h"

namespace ayni::auth {

class PgKeyStore {
 public:
  // Connects to `dsn`. UNAVAILABLE when the server cannot be reached.
  static Result<std::unique_ptr<PgKeyStore>> Open(const std::string& dsn);
  ~PgKeyStore();
  PgKeyStore(const PgKeyStore&) = delete;
  PgKeyStore& operator=(const PgKeyStore&) = delete;

  // Every stored key, by key id.
  Result<std::vector<KeyRecord>> LoadAll();
  // Inserts `record`, made by the request `request` (nullopt: the bootstrap key).
  // When a key made by the same request already exists, nothing is written and that
  // key's record is returned (the caller answers REASON_EXISTS); nullopt when inserted.
  // ALREADY_EXISTS when the key id is taken (mint another).
  Result<std::optional<KeyRecord>> Insert(const KeyRecord& record,
                                          const std::optional<RequestId>& request);
  // Marks the key revoked unless it already is (the first revocation is kept).
  // NOT_FOUND for an unknown key id.
  Status Revoke(KeyId id, uint64_t at_ns, const std::string& by, const std::string& reason);

 private:
  explicit PgKeyStore(std::string dsn);
  Status EnsureConnected();
  struct Connection;
  std::string dsn_;
  std::unique_ptr<Connection> conn_;
};

}  // namespace ayni::auth
