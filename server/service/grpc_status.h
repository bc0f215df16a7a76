// The one place where ayni::Status codes become gRPC status codes (STYLE: errors of
// kind 3, "mapped to gRPC codes in exactly one place"). Every handler finishes through
// ToGrpc. Pure; thread-safe.
#pragma once

#include <grpcpp/support/status.h>

#include "clearing/status.h"

namespace ayni::server::service {

grpc::StatusCode ToGrpcCode(StatusCode code);
grpc::Status ToGrpc(const Status& s);

}  // namespace ayni::server::service
