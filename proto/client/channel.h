// The client side of a connection to `aynid`, shared by the gRPC clients that are not the
// server (`ayni`, `ayni-kiosk`): the channel (TLS with a given CA, or plaintext to
// loopback only) and the API key read from a file.
// Functions; thread-safe.
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>
#include <string_view>

#include "clearing/status.h"

namespace ayni::cli {

// Splits HOST:PORT ("[::1]:7443" for IPv6): INVALID_ARGUMENT for a malformed address.
// Plaintext (`tls` false) is allowed only to loopback: 127.0.0.0/8, ::1, localhost;
// FAILED_PRECONDITION for another host, saying how to use TLS. With TLS any host is fine.
Status CheckServerAddress(std::string_view server, bool tls = false);

// Reads a key file or the AYNI_KEY value: trims surrounding whitespace and checks the
// token is one line of printable ASCII (what gRPC metadata allows). The message never
// contains the token.
Result<std::string> CleanToken(std::string_view raw, std::string_view source);

struct ChannelOptions {
  std::string server;           // HOST:PORT
  std::string tls_ca;           // PEM root CA(s); empty = plaintext, to loopback only
  std::string tls_server_name;  // the name checked in the server's certificate; empty = host
};

// CheckServerAddress, then the channel. FAILED_PRECONDITION when the CA file holds no PEM
// certificate; the address errors of CheckServerAddress as they are.
Result<std::shared_ptr<grpc::Channel>> OpenChannel(const ChannelOptions& options);

// Reads an API key file and cleans it (CleanToken). The message never holds the key.
// FAILED_PRECONDITION when the file cannot be read, INVALID_ARGUMENT when it holds no key.
Result<std::string> ReadApiKeyFile(const std::string& path);

}  // namespace ayni::cli
