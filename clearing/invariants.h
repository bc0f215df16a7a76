// The invariant checker (SPEC §2, invariants 1–4 and 7) for tests and the audit.
//
// CheckInvariants walks the ledger's state; CheckJournal replays the journal alone and
// compares every balance with the ledger's. Each fault names what is wrong and where.
// A checker is only trusted if it can fail: the tests corrupt state on purpose and expect
// each fault by kind. Read-only; call from the ledger's owning thread.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "clearing/journal.h"
#include "clearing/ledger.h"

namespace ayni {

enum class FaultKind : uint8_t {
  kCurrencyNotBalanced = 1,   // invariant 1: a currency's balances do not sum to zero
  kPostedTotalsMismatch = 2,  // balance ≠ credits − debits
  kBelowFloor = 3,            // invariant 2: member below 0 / −credit limit
  kAboveCeiling = 4,          // invariant 2
  kSystemAccountSign = 5,     // invariant 2: a system account left its sign
  kCoverageBroken = 6,        // invariant 3
  kOutsideCircle = 7,         // invariant 4: mutual-credit account of a non-member
  kDuePairMismatch = 8,       // DUE_FROM:A@B ≠ −DUE_TO:B@A
  kClosedNotEmpty = 9,        // a closed account holds a balance
  kJournal = 10,              // invariant 7: see the journal fault in `detail`
  kLoanBookMismatch = 11,     // Σ outstanding of a bank's national-money loans ≠ its LOANS
  kCardFloatMismatch = 12,    // CARD_FLOAT ≠ Σ shadow + Σ pending loads of its cards (cards.h)
};
const char* FaultKindName(FaultKind k);

struct Fault {
  FaultKind kind;
  uint64_t id = 0;  // account, bank or currency id, by kind
  std::string detail;
};

std::vector<Fault> CheckInvariants(const Ledger& ledger);

// Replays `batches` and compares the result with `ledger`: chain, decoding, and every
// account's balance and posted totals. Journal faults are reported as kJournal with the
// journal fault's name first in `detail` (e.g. "hash_mismatch: batch 7: …").
std::vector<Fault> CheckJournal(const Ledger& ledger, std::span<const StoredBatch> batches);

std::string FormatFaults(const std::vector<Fault>& faults);

}  // namespace ayni
