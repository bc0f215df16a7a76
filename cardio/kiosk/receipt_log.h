// The kiosk's receipt log (SPEC §5 "Kiosk"): every record a card signed at this kiosk,
// kept until the bank has it. Append-only; one file, `receipts.log` in the kiosk directory.
//
// Each entry is 232 bytes: u8 kind ‖ record[210] ‖ u64 time (unix s) ‖ u8 reject ‖
// u32 batch sequence ‖ the first 8 bytes of SHA-256 of the 224 bytes before. Kind 'R' is
// a receipt taken (time = when); 'S' marks it sent and done (SETTLED, LOAD_CONFIRMED or
// DUPLICATE at the bank) and 'X' sent and rejected (reject = the bank's ReceiptReject
// number); both name the record by its bytes and the batch that carried it. The last
// entry for a record wins.
//
// Durability: Add and Mark return only after write + fdatasync (and, when the file was
// created, an fsync of the directory), so a kiosk says "paid" only for a receipt on disk.
// A crash mid-append leaves a torn last entry: Open ignores it with a warning and cuts it
// off before the next append. A bad entry anywhere else is corruption (kDataLoss).
// Adding identical record bytes twice writes nothing the second time (exactly once).
// Move-only; owns the open file. Thread-compatible; one process at a time (the kiosk
// directory lock).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "clearing/card/bytes.h"
#include "clearing/card/record.h"
#include "clearing/status.h"

namespace ayni::cardio::kiosk {

inline constexpr size_t kReceiptEntrySize = 232;

enum class ReceiptState : uint8_t { kUnsent = 'R', kSent = 'S', kRejected = 'X' };

struct Receipt {
  SignedRecord record;
  Bytes bytes;  // the 210 signed bytes, as uploaded
  uint64_t taken_s = 0;
  ReceiptState state = ReceiptState::kUnsent;
  uint8_t reject = 0;           // kRejected: the bank's ReceiptReject number
  uint32_t batch_sequence = 0;  // the batch that carried it (sent or rejected)
};

struct ReceiptMark {
  Bytes record_bytes;
  ReceiptState state = ReceiptState::kSent;  // kSent or kRejected
  uint8_t reject = 0;
  uint32_t batch_sequence = 0;
};

class ReceiptLog {
 public:
  // Reads (or creates, 0600) the log. A torn last entry is reported in `warnings` and cut
  // off; any other bad entry is kDataLoss.
  static Result<ReceiptLog> Open(const std::string& path, std::vector<std::string>* warnings);
  ReceiptLog(ReceiptLog&& other) noexcept;
  ReceiptLog& operator=(ReceiptLog&&) = delete;
  ReceiptLog(const ReceiptLog&) = delete;
  ReceiptLog& operator=(const ReceiptLog&) = delete;
  ~ReceiptLog();

  // Appends the receipt durably. false: those exact bytes are already in the log (nothing
  // written).
  Result<bool> Add(const SignedRecord& record, uint64_t taken_s);
  // Appends the marks in one write and one fdatasync. Every mark must name a record in the
  // log (kInvalidArgument otherwise, nothing written).
  Status Mark(std::span<const ReceiptMark> marks, uint64_t now_s);

  const std::vector<Receipt>& receipts() const { return receipts_; }
  std::vector<const Receipt*> Unsent() const;
  std::optional<uint64_t> OldestUnsentTime() const;
  bool Contains(std::span<const uint8_t> record_bytes) const;

 private:
  ReceiptLog(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status AppendDurably(const Bytes& entries);
  // Applies one valid entry to the in-memory view.
  Status Apply(ReceiptState kind, const SignedRecord& record, Bytes bytes, uint64_t time_s,
               uint8_t reject, uint32_t batch);

  std::string path_;
  int fd_ = -1;
  std::vector<Receipt> receipts_;
  std::map<Bytes, size_t> index_;  // record bytes → receipts_ index
};

// One entry's bytes (for tests that tear the log by hand).
Bytes EncodeReceiptEntry(ReceiptState kind, std::span<const uint8_t> record_bytes, uint64_t time_s,
                         uint8_t reject, uint32_t batch_sequence);

}  // namespace ayni::cardio::kiosk
