// RequestTable: the ledger's idempotency index, request id → what a retry must match.
//
// An open-addressing hash table with linear probing and backward-shift deletion over
// compact 24-byte slots (key, record index); the records themselves live in separate
// dense chunks. New requests — the common case — miss, and a miss only reads slots: at
// most half full, it probes about 2.5 neighbouring slots, usually one cache line. The
// all-zero request id marks an empty slot (the ledger refuses zero ids).
//
// The table never stops the writer to grow. It holds every request the bank has ever
// seen, so a stop-the-world rehash at each doubling would grow with the bank: 50 ms at
// 260,000 requests, 450 ms at 2 million, during which no payment is answered. Instead,
// when the slots are half full a table twice the size takes the inserts, and each insert
// also moves kMovePerInsert slots of the old table into it; lookups consult both until
// the old one is drained, long before the new one is half full. The records are kept in
// fixed-size chunks, so adding one never copies the others. The bigger table's memory
// comes zeroed from the kernel, and is touched a little with each insert from a load of
// 15/32 on, so that its page faults (slow for huge pages) are spread out too.
//
// Erase undoes an insert and must come in reverse insertion order (the ledger's undo log
// guarantees it), so records stay dense. Not thread-safe; owned by the Ledger.
#pragma once

#include <sys/mman.h>

#include <algorithm>
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
  RequestTable() : slots_(kInitialSlots) {}

  size_t size() const { return size_; }

  const V* Find(const RequestId& key) const {
    if (const Slot* s = slots_.Lookup(key)) return &record(s->index);
    if (!old_.empty()) {
      const Slot* s = old_.Lookup(key);
      if (s != nullptr && s->index != kErased) return &record(s->index);
    }
    return nullptr;
  }

  // Starts loading the key's home slot into cache. The writer knows its queue ahead of
  // time; prefetching a few commands ahead hides the memory latency of a large table.
  // Always inlined: GCC 12 finds an out-of-line call to it free of side effects (a
  // prefetch is not one) and deletes the call.
  [[gnu::always_inline]] void Prefetch(const RequestId& key) const {
    __builtin_prefetch(slots_.slots + slots_.Home(key));
    if (!old_.empty()) __builtin_prefetch(old_.slots + old_.Home(key));
  }

  // Inserts a new key; the key must not be present.
  void Insert(const RequestId& key, const V& value) {
    AYNI_CHECK(!key.zero());
    if ((slots_.used + 1) * 2 > slots_.count) Grow();
    slots_.Place(Slot{key, size_});
    PushRecord(value);
    if (!old_.empty()) Move(kMovePerInsert);
    if (next_.empty() && slots_.used * 32 >= slots_.count * 15 && Slots::Mapped(slots_.count * 2)) {
      next_ = Slots(slots_.count * 2);
      prefaulted_ = 0;
    }
    if (!next_.empty()) Prefault(kPrefaultPerInsert);
  }

  // Removes the most recently inserted key (undo order). While the old table is being
  // drained the key may be in either table or, already moved, in both: it leaves the new
  // one by backward shift and is marked erased in the old one, whose layout must not change
  // while it is being drained.
  void Erase(const RequestId& key) {
    bool found = false;
    if (Slot* s = slots_.Lookup(key)) {
      AYNI_CHECK(s->index + 1 == size_);
      slots_.Remove(s);
      found = true;
    }
    if (!old_.empty()) {
      if (Slot* s = old_.Lookup(key); s != nullptr && s->index != kErased) {
        AYNI_CHECK(s->index + 1 == size_);
        s->index = kErased;
        found = true;
      }
    }
    AYNI_CHECK(found);  // erasing a key that is not there is a bug
    --size_;
  }

  // Whether an old table is still being drained (for tests).
  bool growing() const { return !old_.empty(); }

 private:
  static constexpr size_t kInitialSlots = 1024;
  // Old slots moved per insert. The new table has twice the old one's slots and needs
  // half its own count in inserts before it grows again, so it would suffice to move two;
  // eight drains the old table in an eighth of that time, which keeps the window in which
  // a miss probes both tables short, for ≈ 0.5 µs more per insert while it lasts.
  static constexpr size_t kMovePerInsert = 8;
  // Bytes of the next table written ahead per insert, from a load of 15/32 on: it is 48
  // bytes a slot of the current table, so all of it is touched by a load of 0.4922, before
  // the current table is half full. Spread over most of that window, because the cost is
  // per byte (a fresh 2 MiB page took 4–5 ms here): 4 KiB an insert put two huge pages,
  // ≈ 10 ms, into each thousand inserts. Started late, because the next table is resident
  // from then on: at most a sixteenth of the inserts between two growths see both.
  static constexpr size_t kPrefaultPerInsert = 2048;
  static constexpr size_t kPage = 4096;
  static constexpr uint64_t kErased = ~uint64_t{0};  // old-table mark of an undone insert
  static constexpr size_t kChunkShift = 10;           // 1,024 records a chunk
  static constexpr size_t kChunk = size_t{1} << kChunkShift;

  struct Slot {
    RequestId key;
    uint64_t index = 0;
  };

  // A power-of-two array of zeroed slots with linear probing.
  struct Slots {
    Slot* slots = nullptr;
    size_t count = 0;
    size_t bytes = 0;  // of the allocation
    size_t used = 0;   // occupied slots (an erased mark in an old table counts)

    Slots() = default;
    explicit Slots(size_t n) : count(n) { slots = Allocate(n, &bytes); }
    Slots(Slots&& o) noexcept { *this = std::move(o); }
    Slots& operator=(Slots&& o) noexcept {
      if (this != &o) {
        Release();
        slots = o.slots, count = o.count, bytes = o.bytes, used = o.used;
        o.slots = nullptr, o.count = o.bytes = o.used = 0;
      }
      return *this;
    }
    Slots(const Slots&) = delete;
    Slots& operator=(const Slots&) = delete;
    ~Slots() { Release(); }

    bool empty() const { return slots == nullptr; }
    const Slot& at(size_t i) const { return slots[i]; }
    size_t Next(size_t i) const { return (i + 1) & (count - 1); }
    size_t Home(const RequestId& key) const { return std::hash<RequestId>{}(key) & (count - 1); }

    Slot* Lookup(const RequestId& key) {
      return const_cast<Slot*>(static_cast<const Slots*>(this)->Lookup(key));
    }
    const Slot* Lookup(const RequestId& key) const {
      for (size_t i = Home(key);; i = Next(i)) {
        const Slot& s = slots[i];
        if (s.key.zero()) return nullptr;
        if (s.key == key) return &s;
      }
    }
    // Places a slot whose key is not present (checked: a duplicate is a bug).
    void Place(const Slot& s) {
      size_t i = Home(s.key);
      for (; !slots[i].key.zero(); i = Next(i)) AYNI_CHECK(slots[i].key != s.key);
      slots[i] = s;
      ++used;
    }
    // Backward-shift deletion: pulls later entries of the same probe run into the hole.
    void Remove(Slot* hole) {
      size_t i = static_cast<size_t>(hole - slots);
      for (size_t j = i;;) {
        j = Next(j);
        if (slots[j].key.zero()) break;
        const size_t home = Home(slots[j].key);
        // Move j into i unless its home lies cyclically within (i, j].
        const bool in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
          slots[i] = slots[j];
          i = j;
        }
      }
      slots[i] = Slot{};
      --used;
    }

    // Whether a table of n slots is an anonymous mapping (below: calloc).
    static bool Mapped(size_t n) { return n * sizeof(Slot) >= kHuge; }
    static constexpr size_t kHuge = size_t{2} << 20;

    // Zeroed slots, a Slot{} being all zero bytes. Large tables are anonymous mappings,
    // which the kernel zeroes a page at a time on first touch, 2 MiB-aligned and asked to
    // use huge pages: lookups are random over the whole table, and with 4 KiB pages nearly
    // every one is a TLB miss.
    static Slot* Allocate(size_t n, size_t* bytes) {
      const size_t want = n * sizeof(Slot);
      if (!Mapped(n)) {
        *bytes = want;
        void* p = std::calloc(n, sizeof(Slot));
        AYNI_CHECK(p != nullptr);
        return static_cast<Slot*>(p);
      }
      const size_t size = (want + kHuge - 1) / kHuge * kHuge;
      // Map one huge page more than needed, then trim to a 2 MiB-aligned range.
      void* m = mmap(nullptr, size + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
      AYNI_CHECK(m != MAP_FAILED);
      const auto base = reinterpret_cast<uintptr_t>(m);
      const uintptr_t aligned = (base + kHuge - 1) & ~(uintptr_t{kHuge} - 1);
      if (aligned > base) munmap(m, aligned - base);
      if (const uintptr_t tail = base + size + kHuge - (aligned + size); tail > 0) {
        munmap(reinterpret_cast<void*>(aligned + size), tail);
      }
      void* p = reinterpret_cast<void*>(aligned);
      madvise(p, size, MADV_HUGEPAGE);  // a hint; failure is harmless
      *bytes = size;
      return static_cast<Slot*>(p);
    }
    void Release() {
      if (slots == nullptr) return;
      if (!Mapped(count)) {
        std::free(slots);
      } else {
        munmap(slots, bytes);
      }
      slots = nullptr;
    }
  };

  void Grow() {
    if (!old_.empty()) Move(old_.count);  // not reached with kMovePerInsert ≥ 2; kept safe
    if (next_.empty()) next_ = Slots(slots_.count * 2), prefaulted_ = 0;
    Prefault(next_.bytes);  // nothing left to do, unless erases held the load below 15/32
    old_ = std::move(slots_);
    slots_ = std::move(next_);
    moved_ = 0;
  }

  // Writes to the next table's pages ahead of its use, up to n bytes further on. The
  // kernel then zeroes (and, for a huge page, finds and compacts) them a few at a time:
  // on this kind of machine a 2 MiB page can take 4–5 ms on first touch, and the first
  // thousand inserts into a fresh table would touch nearly every one of them.
  void Prefault(size_t n) {
    if (!Slots::Mapped(next_.count)) return;  // calloc'ed: already zeroed
    const size_t end = std::min(next_.bytes, prefaulted_ + n);
    auto* bytes = reinterpret_cast<volatile unsigned char*>(next_.slots);
    for (size_t b = (prefaulted_ + kPage - 1) / kPage * kPage; b < end; b += kPage) bytes[b] = 0;
    prefaulted_ = end;
  }

  // Moves up to n slots of the old table, in slot order; frees it once all are moved.
  // The old table's layout does not change meanwhile (Erase only marks), so lookups there
  // stay correct for the slots not yet moved, and harmless for those already moved.
  void Move(size_t n) {
    const size_t end = std::min(old_.count, moved_ + n);
    for (; moved_ < end; ++moved_) {
      const Slot& s = old_.at(moved_);
      if (!s.key.zero() && s.index != kErased) slots_.Place(s);
    }
    if (moved_ == old_.count) old_ = Slots();
  }

  const V& record(uint64_t index) const {
    return chunks_[index >> kChunkShift][index & (kChunk - 1)];
  }
  void PushRecord(const V& value) {
    if ((size_ >> kChunkShift) == chunks_.size()) chunks_.push_back(std::make_unique<V[]>(kChunk));
    chunks_[size_ >> kChunkShift][size_ & (kChunk - 1)] = value;
    ++size_;
  }

  Slots slots_;        // takes every insert
  Slots old_;          // while growing: the previous table, drained by Move
  Slots next_;         // from a load of 15/32: the next table, prefaulted by Prefault
  size_t prefaulted_ = 0;  // bytes of next_ written
  size_t moved_ = 0;   // old_ slots [0, moved_) are moved
  size_t size_ = 0;    // records
  std::vector<std::unique_ptr<V[]>> chunks_;
};

}  // namespace ayni
