// A call's request and reply on one protobuf arena (issue 5: allocation on the hot path).
//
// Without it gRPC gives a callback method a request and a reply whose sub-messages and
// strings each come from the heap: a BatchPay of 1,000 items parses 1,000 PaymentItems
// and fills 1,000 PaymentResults, each result with its request id and detail strings, and
// frees them all again after the answer is sent. On an arena all of these come from a
// few blocks that are freed at once when gRPC releases the call. A small call (Pay,
// GetAccount) fits the holder's first block; it takes from the heap only the holder and
// the characters of strings longer than 15 bytes (std::string keeps those outside the
// arena: a 16-byte request id is one). Measured in docs/benchmarks.md ("Allocation on
// the hot path").
//
// Register with the service's SetMessageAllocatorFor_<Method>; the allocator must outlive
// the server. Thread-safety: AllocateMessages may run on any gRPC thread at once; each
// holder belongs to one call.
#pragma once

#include <google/protobuf/arena.h>
#include <grpcpp/support/message_allocator.h>

#include <cstddef>

namespace ayni::server::service {

template <typename Request, typename Reply>
class ArenaMessageAllocator final : public grpc::MessageAllocator<Request, Reply> {
 public:
  grpc::MessageHolder<Request, Reply>* AllocateMessages() override { return new Holder; }

 private:
  class Holder final : public grpc::MessageHolder<Request, Reply> {
   public:
    Holder() : arena_(Options(first_block_)) {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Reply>(&arena_));
    }
    Holder(const Holder&) = delete;
    Holder& operator=(const Holder&) = delete;
    // gRPC calls this once the call is over (reply sent or call cancelled).
    void Release() override { delete this; }

   private:
    static constexpr size_t kFirstBlock = 2048;   // a unary Pay with its reply: < 1 KiB
    static constexpr size_t kMaxBlock = 64 << 10;  // a BatchPay of 8,190 items: ≈ 1 MiB
    static google::protobuf::ArenaOptions Options(char* first) {
      google::protobuf::ArenaOptions o;
      o.initial_block = first;
      o.initial_block_size = kFirstBlock;
      o.max_block_size = kMaxBlock;
      return o;
    }
    alignas(8) char first_block_[kFirstBlock];  // before arena_: it lives as long
    google::protobuf::Arena arena_;
  };
};

}  // namespace ayni::server::service
