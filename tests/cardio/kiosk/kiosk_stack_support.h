// Shared by the kiosk tests through the real stack (label card, inside card_env.sh): the
// ayni-kiosk binary run as a child (AYNI_KIOSK_PATH), a field of its --json output, API
// keys made by the deployment admin, and the wait for pcscd to notice a removal.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "ayni/v1/setup.grpc.pb.h"
#include "cardio/pcsc/pcsc_reader.h"
#include "tests/server/service/aynid_harness.h"

namespace ayni::test_support {

struct KioskRun {
  int code = -1;
  std::string out;  // stdout and stderr
};

// `[ENV…] ayni-kiosk --dir DIR ARGS…` (`env`: "NAME=VALUE " prefixes for the shell).
inline KioskRun Kiosk(const std::string& dir, const std::string& args,
                      const std::string& env = "") {
  KioskRun r;
  FILE* f = ::popen((env + std::string(AYNI_KIOSK_PATH) + " --dir " + dir +
                     " --card-wait-ms 15000 " + args + " 2>&1")
                        .c_str(),
                    "r");
  if (f == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  const int status = ::pclose(f);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The value of "key":"value" in one JSON line.
inline std::string JsonField(const std::string& json, const std::string& key) {
  const std::string k = "\"" + key + "\":\"";
  const size_t at = json.find(k);
  if (at == std::string::npos) return "";
  const size_t end = json.find('"', at + k.size());
  return json.substr(at + k.size(), end - at - k.size());
}

// A new API key of `role` scoped to (kind, id), made by `admin`; its token.
inline std::string NewKey(Client& admin, v1::Role role, v1::ScopeKind kind, uint64_t id) {
  v1::CreateApiKeyRequest q;
  q.set_request_id(NewId());
  q.set_role(role);
  q.mutable_scope()->set_kind(kind);
  q.mutable_scope()->set_id(id);
  q.set_label("kiosk card e2e");
  v1::CreateApiKeyReply rep;
  const grpc::Status s = RPC(admin, setup, CreateApiKey, q, rep);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return rep.token();
}

// Waits (up to 15 s) until pcscd saw the card leave the first vpcd reader: pcscd notices
// a removal by polling, and the next card must not be mistaken for the old one.
inline void WaitForRemoval() {
  auto reader = cardio::PcscReader::Open();
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  const Status st = (*reader)->WaitForRemoval("Virtual PCD 00 00", 15000);
  ASSERT_TRUE(st.ok()) << st.ToString();
}

}  // namespace ayni::test_support
