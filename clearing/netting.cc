#include "clearing/netting.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace ayni {
namespace {

bool FitsInt64(Int128 v) { return v >= INT64_MIN && v <= INT64_MAX; }

}  // namespace

Result<NettingPlan> ComputeNetting(std::span<const Obligation> obligations) {
  NettingPlan plan;
  Int128 gross = 0;
  std::set<std::pair<uint64_t, uint64_t>> seen;
  std::map<std::pair<uint64_t, uint64_t>, Int128> pair_net;  // key (min, max)
  struct Sums {
    Int128 receivable = 0, payable = 0;
  };
  std::map<uint64_t, Sums> sums;
  for (const Obligation& o : obligations) {
    if (!o.amount.positive()) return Status::InvalidArgument("obligation amount must be > 0");
    if (o.debtor == o.creditor || !o.debtor.valid() || !o.creditor.valid()) {
      return Status::InvalidArgument("obligation must be between two different banks");
    }
    if (!seen.insert({o.debtor.value(), o.creditor.value()}).second) {
      return Status::InvalidArgument("obligation pair repeated");
    }
    gross += o.amount.minor();
    const uint64_t a = std::min(o.debtor.value(), o.creditor.value());
    const uint64_t b = std::max(o.debtor.value(), o.creditor.value());
    pair_net[{a, b}] += (o.debtor.value() == a ? 1 : -1) * static_cast<Int128>(o.amount.minor());
    sums[o.debtor.value()].payable += o.amount.minor();
    sums[o.creditor.value()].receivable += o.amount.minor();
  }
  if (!FitsInt64(gross)) return Status::InvalidArgument("gross total overflows int64");
  plan.gross_total = Amount(static_cast<int64_t>(gross));

  for (const auto& [key, net] : pair_net) {
    plan.bilateral.push_back({BankId(key.first), BankId(key.second),
                              Amount(static_cast<int64_t>(net))});  // |net| ≤ gross
  }
  // Debtors and creditors in id order; greedy two-pointer matching settles at least one
  // side fully per instruction, so there are at most (#debtors + #creditors − 1) ≤ n − 1.
  std::vector<std::pair<BankId, Int128>> debtors, creditors;
  for (const auto& [bank, s] : sums) {
    if (!FitsInt64(s.receivable) || !FitsInt64(s.payable)) {
      return Status::InvalidArgument("a bank's gross position overflows int64");
    }
    const Int128 net = s.receivable - s.payable;
    plan.positions.push_back({BankId(bank), Amount(static_cast<int64_t>(s.receivable)),
                              Amount(static_cast<int64_t>(s.payable)),
                              Amount(static_cast<int64_t>(net))});
    if (net < 0) debtors.push_back({BankId(bank), -net});
    if (net > 0) creditors.push_back({BankId(bank), net});
  }
  size_t i = 0, j = 0;
  Int128 settled = 0;
  while (i < debtors.size() && j < creditors.size()) {
    const Int128 x = std::min(debtors[i].second, creditors[j].second);
    plan.instructions.push_back(
        {debtors[i].first, creditors[j].first, Amount(static_cast<int64_t>(x))});
    settled += x;
    debtors[i].second -= x;
    creditors[j].second -= x;
    if (debtors[i].second == 0) ++i;
    if (creditors[j].second == 0) ++j;
  }
  // Net positions sum to zero, so both sides run out together.
  AYNI_CHECK(i == debtors.size() && j == creditors.size());
  plan.settled_total = Amount(static_cast<int64_t>(settled));
  plan.liquidity_saved = Amount(static_cast<int64_t>(gross - settled));
  return plan;
}

}  // namespace ayni
