#include "server/auth/pg_key_registry.h"

#include <exception>
#include <pqxx/pqxx>
#include <string>
#include <utility>

namespace ayni::auth {

struct PgKeyStore::Connection {
  explicit Connection(const std::string& dsn) : c(dsn) {}
  pqxx::connection c;
};

namespace {

// Translates the exception in flight; call only inside a catch block.
Status Translate(const char* what) {
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return Status::Unavailable(std::string(what) + ": database connection lost: " + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(std::string(what) + ": " + e.what());
  } catch (...) {
    return Status::Internal(std::string(what) + ": unknown error");
  }
}

int64_t I64(uint64_t v) { return static_cast<int64_t>(v); }

std::string Bytes(const uint8_t* p, size_t n) {
  return std::string(reinterpret_cast<const char*>(p), n);
}

KeyRecord FromRow(const pqxx::row& row) {
  KeyRecord k;
  k.key_id = KeyId(static_cast<uint64_t>(row[0].as<int64_t>()));
  k.role = static_cast<Role>(row[1].as<int>());
  k.scope.kind = static_cast<ScopeKind>(row[2].as<int>());
  k.scope.id = static_cast<uint64_t>(row[3].as<int64_t>());
  k.label = row[4].c_str();
  const pqxx::binarystring hash(row[5]);
  for (size_t i = 0; i < k.secret_hash.size() && i < hash.size(); ++i) k.secret_hash[i] = hash[i];
  k.created_at_ns = static_cast<uint64_t>(row[6].as<int64_t>());
  k.created_by = KeyId(static_cast<uint64_t>(row[7].as<int64_t>()));
  k.expires_at_ns = static_cast<uint64_t>(row[8].as<int64_t>());
  k.revoked_at_ns = static_cast<uint64_t>(row[9].as<int64_t>());
  k.revoked_by = row[10].c_str();
  k.revoke_reason = row[11].c_str();
  return k;
}

constexpr const char* kColumns =
    "key_id, role, scope_kind, scope_id, label, secret_hash, created_at_ns, created_by, "
    "expires_at_ns, revoked_at_ns, revoked_by, revoke_reason";

}  // namespace

PgKeyStore::PgKeyStore(std::string dsn) : dsn_(std::move(dsn)) {}
PgKeyStore::~PgKeyStore() = default;

Result<std::unique_ptr<PgKeyStore>> PgKeyStore::Open(const std::string& dsn) {
  std::unique_ptr<PgKeyStore> s(new PgKeyStore(dsn));
  if (Status st = s->EnsureConnected(); !st.ok()) return st;
  return s;
}

Status PgKeyStore::EnsureConnected() {
  if (conn_ && conn_->c.is_open()) return Status::Ok();
  conn_.reset();
  try {
    conn_ = std::make_unique<Connection>(dsn_);
    return Status::Ok();
  } catch (...) {
    conn_.reset();
    Status s = Translate("connect");
    return Status::Unavailable(s.message());
  }
}

Result<std::vector<KeyRecord>> PgKeyStore::LoadAll() {
  if (Status s = EnsureConnected(); !s.ok()) return s;
  try {
    pqxx::read_transaction tx(conn_->c);
    std::vector<KeyRecord> out;
    for (const auto& row :
         tx.exec(std::string("SELECT ") + kColumns + " FROM api_keys ORDER BY key_id")) {
      out.push_back(FromRow(row));
    }
    return out;
  } catch (...) {
    Status s = Translate("load api keys");
    if (s.code() == StatusCode::kUnavailable) conn_.reset();
    return s;
  }
}

Result<std::optional<KeyRecord>> PgKeyStore::Insert(const KeyRecord& k,
                                                    const std::optional<RequestId>& request) {
  if (Status s = EnsureConnected(); !s.ok()) return s;
  try {
    pqxx::work tx(conn_->c);
    if (request) {
      const pqxx::binarystring req(request->bytes().data(), request->bytes().size());
      const pqxx::result prior = tx.exec_params(
          std::string("SELECT ") + kColumns + " FROM api_keys WHERE request_id = $1", req);
      if (!prior.empty()) return std::optional<KeyRecord>(FromRow(prior[0]));
    }
    const pqxx::result taken =
        tx.exec_params("SELECT 1 FROM api_keys WHERE key_id = $1", I64(k.key_id.value()));
    if (!taken.empty()) return Status(StatusCode::kAlreadyExists, "key id taken");
    const pqxx::binarystring hash(k.secret_hash.data(), k.secret_hash.size());
    const std::string req_bytes =
        request ? Bytes(request->bytes().data(), request->bytes().size()) : std::string();
    const pqxx::binarystring req(req_bytes);
    tx.exec_params(
        "INSERT INTO api_keys (key_id, role, scope_kind, scope_id, label, secret_hash, "
        "created_at_ns, created_by, expires_at_ns, request_id) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $10 THEN $11::bytea END)",
        I64(k.key_id.value()), static_cast<int>(k.role), static_cast<int>(k.scope.kind),
        I64(k.scope.id), k.label, hash, I64(k.created_at_ns), I64(k.created_by.value()),
        I64(k.expires_at_ns), request.has_value(), req);
    tx.commit();
    return std::optional<KeyRecord>();
  } catch (...) {
    Status s = Translate("insert api key");
    if (s.code() == StatusCode::kUnavailable) conn_.reset();
    return s;
  }
}

Status PgKeyStore::Revoke(KeyId id, uint64_t at_ns, const std::string& by,
                          const std::string& reason) {
  if (Status s = EnsureConnected(); !s.ok()) return s;
  try {
    pqxx::work tx(conn_->c);
    const pqxx::result exists =
        tx.exec_params("SELECT 1 FROM api_keys WHERE key_id = $1", I64(id.value()));
    if (exists.empty()) return Status::NotFound("api key " + KeyIdHex(id) + ": unknown");
    tx.exec_params(
        "UPDATE api_keys SET revoked_at_ns = $2, revoked_by = $3, revoke_reason = $4 "
        "WHERE key_id = $1 AND revoked_at_ns = 0",
        I64(id.value()), I64(at_ns), by, reason);
    tx.commit();
    return Status::Ok();
  } catch (...) {
    Status s = Translate("revoke api key");
    if (s.code() == StatusCode::kUnavailable) conn_.reset();
    return s;
  }
}

}  // namespace ayni::auth
