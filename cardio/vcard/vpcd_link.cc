#include "cardio/vcard/vpcd_link.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace ayni::cardio {

namespace {
Status Errno(const std::string& what) {
  return Status::Unavailable(what + ": " + std::strerror(errno));
}
}  // namespace

Result<VpcdLink> VpcdLink::Connect(const std::string& host, uint16_t port, bool quick_ack) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return Status::InvalidArgument("vpcd host must be an IPv4 address, got '" + host + "'");
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const Status st = Errno("connect to vpcd at " + host + ":" + std::to_string(port));
    ::close(fd);
    return st;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return VpcdLink(fd, quick_ack);
}

VpcdLink::VpcdLink(VpcdLink&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), quick_ack_(other.quick_ack_) {}

VpcdLink& VpcdLink::operator=(VpcdLink&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    quick_ack_ = other.quick_ack_;
  }
  return *this;
}

VpcdLink::~VpcdLink() {
  if (fd_ >= 0) ::close(fd_);
}

Status VpcdLink::ReadExactly(uint8_t* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    // Quick ACK is not sticky in Linux: set it again before every read.
    if (quick_ack_) {
      const int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
    const ssize_t r = ::recv(fd_, out + done, n - done, 0);
    // A signal (SIGTERM, SIGINT) interrupts the wait so the card can stop.
    if (r < 0 && errno == EINTR) return Status::Unavailable("interrupted by a signal");
    if (r < 0) return Errno("read from vpcd");
    if (r == 0) return Status::Unavailable("vpcd closed the connection");
    done += static_cast<size_t>(r);
  }
  return Status::Ok();
}

Result<Bytes> VpcdLink::Read() {
  uint8_t header[2];
  if (Status st = ReadExactly(header, 2); !st.ok()) return st;
  Bytes payload(static_cast<size_t>(header[0] << 8 | header[1]));
  if (Status st = ReadExactly(payload.data(), payload.size()); !st.ok()) return st;
  return payload;
}

Status VpcdLink::Write(std::span<const uint8_t> payload) {
  if (payload.size() > 0xFFFF) return Status::InvalidArgument("vpcd frame above 65535 bytes");
  Bytes frame = {static_cast<uint8_t>(payload.size() >> 8),
                 static_cast<uint8_t>(payload.size() & 0xFF)};
  frame.insert(frame.end(), payload.begin(), payload.end());
  size_t done = 0;
  while (done < frame.size()) {
    const ssize_t n = ::send(fd_, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("write to vpcd");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace ayni::cardio
