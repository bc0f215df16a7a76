// Inter-bank netting (SPEC §4): from gross bilateral obligations, compute gross totals,
// bilateral and multilateral net positions, and a settlement plan of at most n−1 reserve
// transfers from net debtors to net creditors.
//
// Pure and deterministic: the same obligations give the same plan, byte for byte (banks
// are matched in a fixed order). Thread-compatible.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "clearing/amount.h"
#include "clearing/int128.h"
#include "clearing/ids.h"
#include "clearing/status.h"

namespace ayni {

// debtor owes creditor `amount` (> 0), gross, since the last cycle.
struct Obligation {
  BankId debtor, creditor;
  Amount amount;
  friend bool operator==(const Obligation&, const Obligation&) = default;
};

// For a pair a < b: `amount` > 0 means a owes b on net; < 0 means b owes a.
struct BilateralNet {
  BankId a, b;
  Amount amount;
  friend bool operator==(const BilateralNet&, const BilateralNet&) = default;
};

struct NetPosition {
  BankId bank;
  Amount receivable, payable;  // gross
  Amount net;                  // receivable − payable: > 0 net creditor, < 0 net debtor
  friend bool operator==(const NetPosition&, const NetPosition&) = default;
};

struct SettlementInstruction {
  BankId from, to;  // RESERVE(from) → RESERVE(to)
  Amount amount;
  friend bool operator==(const SettlementInstruction&, const SettlementInstruction&) = default;
};

struct NettingPlan {
  Amount gross_total;                      // Σ obligations
  std::vector<BilateralNet> bilateral;     // one per pair with any obligation, a < b
  std::vector<NetPosition> positions;      // one per bank with any obligation, by id
  std::vector<SettlementInstruction> instructions;
  Amount settled_total;                    // Σ instructions
  Amount liquidity_saved;                  // gross_total − settled_total
};

// Fails (INVALID_ARGUMENT) on a non-positive amount, a self-obligation, a repeated pair,
// or totals that overflow int64.
Result<NettingPlan> ComputeNetting(std::span<const Obligation> obligations);

}  // namespace ayni
