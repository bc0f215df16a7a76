#include "cardio/kiosk/receipt_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "cardio/file_io.h"
#include "clearing/card/crypto.h"
#include "clearing/check.h"

namespace ayni::cardio::kiosk {

namespace {

constexpr size_t kEntryBodySize = kReceiptEntrySize - 8;
// A log beyond this is not a kiosk's (≈ 4.6 million entries).
constexpr size_t kLogBytesMax = size_t{1} << 30;

bool KnownKind(uint8_t k) {
  return k == static_cast<uint8_t>(ReceiptState::kUnsent) ||
         k == static_cast<uint8_t>(ReceiptState::kSent) ||
         k == static_cast<uint8_t>(ReceiptState::kRejected);
}

}  // namespace

Bytes EncodeReceiptEntry(ReceiptState kind, std::span<const uint8_t> record_bytes, uint64_t time_s,
                         uint8_t reject, uint32_t batch_sequence) {
  AYNI_CHECK(record_bytes.size() == kRecordSize);
  ByteWriter w(kReceiptEntrySize);
  w.U8(static_cast<uint8_t>(kind));
  w.Raw(record_bytes);
  w.U64(time_s);
  w.U8(reject);
  w.U32(batch_sequence);
  const Sha256Digest sum = Sha256(w.bytes());
  w.Raw(std::span(sum).first(8));
  AYNI_CHECK(w.size() == kReceiptEntrySize);
  return w.Take();
}

Result<ReceiptLog> ReceiptLog::Open(const std::string& path, std::vector<std::string>* warnings) {
  Result<std::optional<Bytes>> content = ReadWholeFile(path, kLogBytesMax);
  if (!content.ok()) return content.status();
  const bool created = !content->has_value();
  const Bytes bytes = created ? Bytes() : std::move(**content);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  ReceiptLog log(path, fd);
  if (created) {
    if (Status st = SyncDirectoryOf(path); !st.ok()) return st;
  }
  const size_t whole = bytes.size() / kReceiptEntrySize;
  size_t good = 0;  // entries applied
  for (size_t i = 0; i < whole; ++i) {
    const std::span<const uint8_t> e(bytes.data() + i * kReceiptEntrySize, kReceiptEntrySize);
    const Sha256Digest sum = Sha256(e.first(kEntryBodySize));
    const bool sum_ok = std::equal(sum.begin(), sum.begin() + 8, e.begin() + kEntryBodySize);
    ByteReader in(e.first(kEntryBodySize));
    const uint8_t kind = in.U8();
    const std::span<const uint8_t> record_bytes = in.Span(kRecordSize);
    const uint64_t time_s = in.U64();
    const uint8_t reject = in.U8();
    const uint32_t batch = in.U32();
    Result<SignedRecord> record = ParseSignedRecord(record_bytes);
    if (!sum_ok || !KnownKind(kind) || !record.ok()) {
      if (i + 1 == whole && bytes.size() % kReceiptEntrySize == 0) break;  // torn tail
      return Status::DataLoss(path + ": entry " + std::to_string(i) +
                              " is corrupt (checksum, kind or record); the log needs repair");
    }
    if (Status st =
            log.Apply(static_cast<ReceiptState>(kind), *record,
                      Bytes(record_bytes.begin(), record_bytes.end()), time_s, reject, batch);
        !st.ok()) {
      return Status::DataLoss(path + ": entry " + std::to_string(i) + ": " + st.message());
    }
    ++good;
  }
  const size_t good_bytes = good * kReceiptEntrySize;
  if (good_bytes != bytes.size()) {
    if (warnings) {
      warnings->push_back("receipt log " + path + ": ignored a torn last entry (" +
                          std::to_string(bytes.size() - good_bytes) +
                          " bytes, a write cut short by a crash); it is cut off");
    }
    if (::ftruncate(fd, static_cast<off_t>(good_bytes)) != 0 || ::fdatasync(fd) != 0) {
      return ErrnoStatus("cannot cut the torn entry off", path);
    }
  }
  return log;
}

ReceiptLog::ReceiptLog(ReceiptLog&& o) noexcept
    : path_(std::move(o.path_)),
      fd_(std::exchange(o.fd_, -1)),
      receipts_(std::move(o.receipts_)),
      index_(std::move(o.index_)) {}

ReceiptLog::~ReceiptLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status ReceiptLog::Apply(ReceiptState kind, const SignedRecord& record, Bytes bytes,
                         uint64_t time_s, uint8_t reject, uint32_t batch) {
  auto it = index_.find(bytes);
  if (kind == ReceiptState::kUnsent) {
    if (it != index_.end()) return Status::InvalidArgument("a receipt appears twice");
    index_.emplace(bytes, receipts_.size());
    receipts_.push_back({record, std::move(bytes), time_s, ReceiptState::kUnsent, 0, 0});
    return Status::Ok();
  }
  if (it == index_.end()) return Status::InvalidArgument("a mark names no receipt of the log");
  Receipt& r = receipts_[it->second];
  r.state = kind;
  r.reject = reject;
  r.batch_sequence = batch;
  return Status::Ok();
}

Status ReceiptLog::AppendDurably(const Bytes& entries) {
  AYNI_CHECK(fd_ >= 0);
  if (Status st = WriteAll(fd_, entries, path_); !st.ok()) return st;
  if (::fdatasync(fd_) != 0) return ErrnoStatus("cannot fdatasync", path_);
  return Status::Ok();
}

Result<bool> ReceiptLog::Add(const SignedRecord& record, uint64_t taken_s) {
  Bytes bytes = EncodeSignedRecord(record);
  if (index_.count(bytes)) return false;
  if (Status st = AppendDurably(EncodeReceiptEntry(ReceiptState::kUnsent, bytes, taken_s, 0, 0));
      !st.ok()) {
    return st;
  }
  AYNI_CHECK(Apply(ReceiptState::kUnsent, record, std::move(bytes), taken_s, 0, 0).ok());
  return true;
}

Status ReceiptLog::Mark(std::span<const ReceiptMark> marks, uint64_t now_s) {
  Bytes entries;
  entries.reserve(marks.size() * kReceiptEntrySize);
  for (const ReceiptMark& m : marks) {
    if (m.state == ReceiptState::kUnsent || !index_.count(m.record_bytes)) {
      return Status::InvalidArgument("a mark must be sent or rejected and name a receipt");
    }
    const Bytes e = EncodeReceiptEntry(m.state, m.record_bytes, now_s, m.reject, m.batch_sequence);
    entries.insert(entries.end(), e.begin(), e.end());
  }
  if (entries.empty()) return Status::Ok();
  if (Status st = AppendDurably(entries); !st.ok()) return st;
  for (const ReceiptMark& m : marks) {
    const Receipt& r = receipts_[index_.at(m.record_bytes)];
    AYNI_CHECK(Apply(m.state, r.record, m.record_bytes, now_s, m.reject, m.batch_sequence).ok());
  }
  return Status::Ok();
}

std::vector<const Receipt*> ReceiptLog::Unsent() const {
  std::vector<const Receipt*> out;
  for (const Receipt& r : receipts_) {
    if (r.state == ReceiptState::kUnsent) out.push_back(&r);
  }
  return out;
}

std::optional<uint64_t> ReceiptLog::OldestUnsentTime() const {
  std::optional<uint64_t> oldest;
  for (const Receipt& r : receipts_) {
    if (r.state == ReceiptState::kUnsent && (!oldest || r.taken_s < *oldest)) oldest = r.taken_s;
  }
  return oldest;
}

bool ReceiptLog::Contains(std::span<const uint8_t> record_bytes) const {
  return index_.count(Bytes(record_bytes.begin(), record_bytes.end())) > 0;
}

}  // namespace ayni::cardio::kiosk
