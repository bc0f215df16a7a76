// Runs one parsed Command against an `aynid` over a gRPC channel: resolves codes to ids,
// parses amounts at the right scale, makes the RPC, prints the result and returns the exit
// code (proto/client/output.h). This file and runner.cc are the CLI's protobuf edge.
//
// One RunCommand call per process in `ayni`; tests may run many against one in-process
// server. Not thread-safe (writes to the given streams).
#pragma once

#include <grpcpp/channel.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "server/cli/args.h"

namespace ayni::cli {

struct RunContext {
  std::shared_ptr<grpc::ChannelInterface> channel;
  // The bearer token sent as `authorization: Bearer <token>`. Never printed.
  std::string token;
  GlobalOptions global;
  std::ostream* out = nullptr;  // results (tables, CSV, the JSON object)
  std::ostream* err = nullptr;  // refusals and errors in table mode
  // Source of fresh request ids for state-changing commands without --request-id;
  // unset = libsodium randombytes_buf (sodium_init() must have run).
  std::function<RequestIdBytes()> fresh_request_id;
};

int RunCommand(const Command& command, RunContext& ctx);

}  // namespace ayni::cli
