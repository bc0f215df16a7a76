#include "server/storage/pg_common.h"

#include <exception>
#include <utility>

namespace ayni::server::pg {

bool IsUnavailableState(const std::string& sqlstate) {
  return sqlstate.starts_with("08") || sqlstate.starts_with("57") || sqlstate.starts_with("40");
}

Status TranslateCurrent(std::string_view what) {
  const std::string prefix = std::string(what) + ": ";
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return Status::Unavailable(prefix + "PostgreSQL connection: " + e.what());
  } catch (const pqxx::sql_error& e) {
    std::string m = prefix + e.what();
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    if (!e.sqlstate().empty()) m += " [SQLSTATE " + e.sqlstate() + "]";
    if (IsUnavailableState(e.sqlstate())) return Status::Unavailable(std::move(m));
    return Status::Internal(std::move(m));
  } catch (const std::exception& e) {
    return Status::Internal(prefix + e.what());
  } catch (...) {
    return Status::Internal(prefix + "unknown exception");
  }
}

std::vector<uint8_t> ToVector(const pqxx::field& f) {
  const pqxx::binarystring b(f);
  return std::vector<uint8_t>(b.data(), b.data() + b.size());
}

}  // namespace ayni::server::pg
