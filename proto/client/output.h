// What the gRPC clients (the CLI `ayni`, `ayni-kiosk`) print: aligned tables for people,
// CSV for spreadsheets, one JSON object per command for scripts (SPEC §7), and the exit
// code of every kind of result.
// Pure functions and value types; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ayni::cli {

// Exit codes. Stable: scripts (deploy/demo.sh, tests) branch on them.
enum ExitCode : int {
  kExitOk = 0,
  kExitAuditFault = 1,  // an audit ran and found a fault (under-covered bank, bad journal)
  kExitRefused = 2,     // the server refused the request (reply reason ≠ OK/EXISTS)
  kExitTransport = 3,   // gRPC error: unreachable, unauthenticated, denied, not found, …
  kExitLocal = 4,       // a local failure: unreadable key file, unwritable token file
  kExitUsage = 64,      // bad command line (EX_USAGE)
};

// Exit code of a reply's Reason number: 0 (OK) and 1 (EXISTS) succeed, the rest refuse.
int ExitCodeForReason(int reason_number);
// Exit code of a gRPC status code number: 0 is OK, everything else a transport error.
int ExitCodeForGrpc(int grpc_code);
// "UNAVAILABLE", "PERMISSION_DENIED", … for a gRPC status code number.
std::string GrpcCodeName(int grpc_code);

// A table with a header row. Columns marked numeric are right-aligned in text output.
class Table {
 public:
  explicit Table(std::vector<std::string> headers, std::vector<bool> numeric = {});
  void AddRow(std::vector<std::string> cells);  // as many cells as headers (checked)
  size_t rows() const { return rows_.size(); }

  // Columns separated by two spaces, padded to the widest cell (by UTF-8 code points),
  // each line ending in '\n'; no trailing spaces.
  std::string RenderText() const;
  // RFC 4180: comma-separated, CRLF-free ('\n' line ends), fields quoted when they hold a
  // comma, quote, CR or LF, quotes doubled.
  std::string RenderCsv() const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> numeric_;
  std::vector<std::vector<std::string>> rows_;
};

// "key: value" lines with the keys aligned, for one object.
std::string RenderFields(const std::vector<std::pair<std::string, std::string>>& fields);

// A JSON string literal for `s` (UTF-8 passed through; control characters escaped).
std::string JsonQuote(std::string_view s);

// Builds one JSON object in insertion order. Values added with AddRaw must already be
// valid JSON (e.g. a protobuf message rendered by MessageToJsonString).
class JsonObject {
 public:
  JsonObject& Add(std::string_view key, std::string_view value);
  JsonObject& Add(std::string_view key, const char* value) {
    return Add(key, std::string_view(value));
  }
  JsonObject& Add(std::string_view key, int64_t value);
  JsonObject& Add(std::string_view key, bool value);
  JsonObject& AddRaw(std::string_view key, std::string_view json);
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void Key(std::string_view key);
  std::string body_;
};

// A JSON array of already-valid JSON values.
std::string JsonArray(const std::vector<std::string>& values);

}  // namespace ayni::cli
