// RequestTable: the ledger's idempotency index, request id → what a retry must match.
//
// An open-addressing hash table with linear probing and backward-shift deletion over
// compact 24-byte slots (key, record index); the records themselves live in a separate
// dense vector. New requests — the common case — miss, and a miss only reads slots: at
// most half full, it probes about 2.5 neighbouring slots, usually one cache line. The
// all-zero request id marks an empty slot (the ledger refuses zero ids).
//
// Erase undoes an insert and must come in reverse insertion order (the ledger's undo log
// guarantees it), so records stay dense. Not thread-safe; owned by the Ledger.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <vector>

#include "clearing/check.h"
#include "clearing/ids.h"

namespace ayni {

template <typename V>
class RequestTable {
 public:
  RequestTable() : slots_(Allocate(kInitialSlots)), slot_count_(kInitialSlots) {}

  size_t size() const { return records_.size(); }

  const V* Find(const RequestId& key) const {
    for (size_t i = Home(key);; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.key.zero()) return nullptr;
      if (s.key == key) return &records_[s.index];
    }
  }

  // Starts loading the key's home slot into cache. The writer knows its queue ahead of
  // time; prefetching a few commands ahead hides the memory latency of a large table.
  void Prefetch(const RequestId& key) const { __builtin_prefetch(&slots_[Home(key)]); }

  // Inserts a new key; the key must not be present.
  void Insert(const RequestId& key, const V& value) {
    AYNI_CHECK(!key.zero());
    if ((records_.size() + 1) * 2 > slot_count_) Grow();
    size_t i = Home(key);
    for (; !slots_[i].key.zero(); i = (i + 1) & mask()) AYNI_CHECK(slots_[i].key != key);
    slots_[i] = Slot{key, records_.size()};
    records_.push_back(value);
  }

  // Removes the most recently inserted key (undo order).
  void Erase(const RequestId& key) {
    size_t i = Home(key);
    for (;; i = (i + 1) & mask()) {
      AYNI_CHECK(!slots_[i].key.zero());  // erasing a key that is not there is a bug
      if (slots_[i].key == key) break;
    }
    AYNI_CHECK(slots_[i].index + 1 == records_.size());
    records_.pop_back();
    // Backward-shift: pull later entries of the same probe run into the hole.
    for (size_t j = i;;) {
      j = (j + 1) & mask();
      if (slots_[j].key.zero()) break;
      const size_t home = Home(slots_[j].key);
      // Move j into i unless its home lies cyclically within (i, j].
      const bool in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!in_range) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{};
  }

 private:
  static constexpr size_t kInitialSlots = 1024;
  struct Slot {
    RequestId key;
    uint64_t index = 0;
  };

  struct FreeSlots {
    void operator()(Slot* p) const { std::free(p); }
  };
  using Slots = std::unique_ptr<Slot[], FreeSlots>;

  // Zeroed slots. Large tables are 2 MiB-aligned and asked to use huge pages: lookups
  // are random over the whole table, and with 4 KiB pages nearly every one is a TLB miss.
  static Slots Allocate(size_t n) {
    constexpr size_t kHuge = size_t{2} << 20;
    const size_t bytes = n * sizeof(Slot);
    // aligned_alloc wants a size that is a multiple of the alignment.
    void* p = bytes >= kHuge ? std::aligned_alloc(kHuge, (bytes + kHuge - 1) / kHuge * kHuge)
                             : std::malloc(bytes);
    AYNI_CHECK(p != nullptr);
    if (bytes >= kHuge) madvise(p, bytes, MADV_HUGEPAGE);  // a hint; failure is harmless
    Slot* slots = static_cast<Slot*>(p);
    for (size_t i = 0; i < n; ++i) new (&slots[i]) Slot();
    return Slots(slots);
  }

  size_t mask() const { return slot_count_ - 1; }
  size_t Home(const RequestId& key) const { return std::hash<RequestId>{}(key)&mask(); }

  void Grow() {
    Slots old = Allocate(slot_count_ * 2);
    old.swap(slots_);
    const size_t old_count = slot_count_;
    slot_count_ *= 2;
    for (size_t k = 0; k < old_count; ++k) {
      const Slot& s = old[k];
      if (s.key.zero()) continue;
      size_t i = Home(s.key);
      while (!slots_[i].key.zero()) i = (i + 1) & mask();
      slots_[i] = s;
    }
  }

  Slots slots_;
  size_t slot_count_;
  std::vector<V> records_;
};

}  // namespace ayni
