// CardServer over gRPC: the kiosk's only protobuf edge (STYLE: its own small conversion
// file). Each call carries `authorization: Bearer <api key>` and a deadline.
// Thread-compatible (one kiosk command at a time).
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "cardio/kiosk/card_server.h"

namespace ayni::cardio::kiosk {

std::unique_ptr<CardServer> MakeGrpcCardServer(std::shared_ptr<grpc::ChannelInterface> channel,
                                               std::string api_key, int timeout_s);

}  // namespace ayni::cardio::kiosk
