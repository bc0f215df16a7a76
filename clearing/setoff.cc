#include "clearing/setoff.h"

// LEMON 1.3's compile-time concept checks, compiled in unless NDEBUG is defined, instantiate
// std::allocator::construct, which C++20 removed. They check nothing at run time, so they are
// compiled out for LEMON alone; LEMON's run-time assertions (lemon/assert.h) stay as they are.
// concept_check.h includes nothing else, and its include guard keeps this definition.
#ifdef NDEBUG
#include <lemon/concept_check.h>
#else
#define NDEBUG
#include <lemon/concept_check.h>
#undef NDEBUG
#endif

#include <lemon/connectivity.h>
#include <lemon/maps.h>
#include <lemon/network_simplex.h>
#include <lemon/smart_graph.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "clearing/check.h"
#include "clearing/int128.h"
#include "clearing/limits.h"

namespace ayni {
namespace {

// LEMON is instantiated with long long, which is int64_t's width on every target we build.
static_assert(sizeof(long long) == sizeof(int64_t));
using Graph = lemon::SmartDigraph;
using Solver = lemon::NetworkSimplex<Graph, long long, long long>;

bool FitsInt64(Int128 v) { return v >= INT64_MIN && v <= INT64_MAX; }

std::string Name(const Invoice& inv, size_t index) {
  return "invoice #" + std::to_string(index) + " (id " + inv.id.ToHex() + ")";
}

// (currency, firm) keys of every position, sorted: the dense index of a position.
using PositionKey = std::pair<uint64_t, uint64_t>;

size_t PositionIndex(const std::vector<PositionKey>& keys, CurrencyId c, MemberId firm) {
  const auto it = std::lower_bound(keys.begin(), keys.end(), PositionKey{c.value(), firm.value()});
  AYNI_CHECK(it != keys.end() && *it == (PositionKey{c.value(), firm.value()}));
  return static_cast<size_t>(it - keys.begin());
}

Status ValidateEach(std::span<const Invoice> invoices, size_t invoices_max) {
  if (invoices.size() > invoices_max) {
    return Status::InvalidArgument("a set-off run takes at most " + std::to_string(invoices_max) +
                                   " invoices, got " + std::to_string(invoices.size()));
  }
  for (size_t i = 0; i < invoices.size(); ++i) {
    const Invoice& inv = invoices[i];
    if (inv.id.zero()) return Status::InvalidArgument(Name(inv, i) + ": invoice id is zero");
    if (!inv.debtor.valid() || !inv.creditor.valid()) {
      return Status::InvalidArgument(Name(inv, i) + ": debtor and creditor must be set");
    }
    if (!inv.currency.valid()) return Status::InvalidArgument(Name(inv, i) + ": currency not set");
    if (inv.debtor == inv.creditor) {
      return Status::InvalidArgument(Name(inv, i) + ": debtor and creditor are the same firm " +
                                     std::to_string(inv.debtor.value()));
    }
    if (!inv.amount.positive()) {
      return Status::InvalidArgument(Name(inv, i) + ": amount must be > 0, got " +
                                     std::to_string(inv.amount.minor()));
    }
  }
  std::vector<std::pair<InvoiceId, size_t>> ids;
  ids.reserve(invoices.size());
  for (size_t i = 0; i < invoices.size(); ++i) ids.push_back({invoices[i].id, i});
  std::sort(ids.begin(), ids.end());
  for (size_t k = 1; k < ids.size(); ++k) {
    if (ids[k].first == ids[k - 1].first) {
      const size_t later = std::max(ids[k].second, ids[k - 1].second);
      const size_t earlier = std::min(ids[k].second, ids[k - 1].second);
      return Status::InvalidArgument(Name(invoices[later], later) + ": id repeats invoice #" +
                                     std::to_string(earlier));
    }
  }
  return Status::Ok();
}

struct Sums {
  Int128 receivable = 0, payable = 0;
};

// Position indices (in `keys`) of an invoice's debtor and creditor.
struct Ends {
  size_t debtor, creditor;
};

// The dense minimum-cost-flow problem of one currency: `order` holds the indices of its
// invoices sorted by id, `first_position` the index of its first firm in `keys`. Writes the
// remainder of every invoice of the currency into `remainder`.
void SolveCurrency(std::span<const Invoice> invoices, std::span<const Ends> positions,
                   std::span<const size_t> order, size_t first_position, size_t firm_count,
                   std::vector<int64_t>& remainder, size_t& solver_invoices) {
  // The whole invoice graph of the currency, for its strongly connected components.
  Graph all;
  all.reserveNode(static_cast<int>(firm_count));
  all.reserveArc(static_cast<int>(order.size()));
  for (size_t v = 0; v < firm_count; ++v) all.addNode();
  std::vector<std::pair<int, int>> ends;  // (debtor node, creditor node) per order entry
  ends.reserve(order.size());
  for (size_t i : order) {
    const int d = static_cast<int>(positions[i].debtor - first_position);
    const int c = static_cast<int>(positions[i].creditor - first_position);
    ends.push_back({d, c});
    all.addArc(all.nodeFromId(d), all.nodeFromId(c));
  }
  Graph::NodeMap<int> component(all);
  lemon::stronglyConnectedComponents(all, component);

  // Only invoices inside one component can be set off; the others stay whole.
  Graph g;
  std::vector<int> node_of(firm_count, -1);
  std::vector<std::pair<size_t, Graph::Arc>> arcs;  // (invoice index, arc)
  for (size_t k = 0; k < order.size(); ++k) {
    const auto [d, c] = ends[k];
    remainder[order[k]] = invoices[order[k]].amount.minor();
    if (component[all.nodeFromId(d)] != component[all.nodeFromId(c)]) continue;
    for (int v : {d, c}) {
      if (node_of[v] < 0) node_of[v] = g.id(g.addNode());
    }
    arcs.push_back({order[k], g.addArc(g.nodeFromId(node_of[d]), g.nodeFromId(node_of[c]))});
  }
  solver_invoices = arcs.size();
  if (arcs.empty()) return;

  // Remaining debt f_e flows debtor → creditor: each firm's out-flow minus in-flow must stay
  // its net payable over these invoices (its supply), 0 ≤ f_e ≤ a_e, cost 1 per unit.
  // Every |supply| and Σ upper bounds are within the currency's gross, checked to fit int64.
  Graph::ArcMap<long long> upper(g);
  Graph::NodeMap<long long> supply(g, 0);
  for (const auto& [i, arc] : arcs) {
    const long long a = invoices[i].amount.minor();
    upper[arc] = a;
    supply[g.source(arc)] += a;
    supply[g.target(arc)] -= a;
  }
  Solver solver(g);
  solver.upperMap(upper).costMap(lemon::ConstMap<Graph::Arc, long long>(1)).supplyMap(supply);
  // f = a is feasible and costs are bounded, so an optimum always exists.
  const Solver::ProblemType outcome = solver.run();
  AYNI_CHECK(outcome == Solver::OPTIMAL);
  for (const auto& [i, arc] : arcs) remainder[i] = solver.flow(arc);
}

}  // namespace

Result<SetoffResult> ComputeSetoff(std::span<const Invoice> invoices, size_t invoices_max) {
  AYNI_CHECK(invoices_max <= kSetoffInvoicesMax);
  if (Status s = ValidateEach(invoices, invoices_max); !s.ok()) return s;

  std::vector<PositionKey> keys;
  keys.reserve(2 * invoices.size());
  for (const Invoice& inv : invoices) {
    keys.push_back({inv.currency.value(), inv.debtor.value()});
    keys.push_back({inv.currency.value(), inv.creditor.value()});
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());

  std::vector<Ends> positions(invoices.size());
  std::vector<Sums> sums(keys.size());
  std::map<CurrencyId, Int128> gross_of;
  for (size_t i = 0; i < invoices.size(); ++i) {
    const Invoice& inv = invoices[i];
    gross_of[inv.currency] += inv.amount.minor();
    positions[i] = {PositionIndex(keys, inv.currency, inv.debtor),
                    PositionIndex(keys, inv.currency, inv.creditor)};
    Sums& d = sums[positions[i].debtor];
    Sums& c = sums[positions[i].creditor];
    d.payable += inv.amount.minor();
    c.receivable += inv.amount.minor();
    if (!FitsInt64(d.payable) || !FitsInt64(c.receivable)) {
      const bool payable = !FitsInt64(d.payable);
      const MemberId firm = payable ? inv.debtor : inv.creditor;
      return Status::InvalidArgument(Name(inv, i) + ": firm " + std::to_string(firm.value()) +
                                     "'s gross " + (payable ? "payable" : "receivable") +
                                     " in currency " + std::to_string(inv.currency.value()) +
                                     " overflows int64");
    }
  }

  // Everything is refused before anything is solved.
  for (const auto& [currency, gross] : gross_of) {
    if (!FitsInt64(gross)) {
      return Status::InvalidArgument("gross debt in currency " + std::to_string(currency.value()) +
                                     " overflows int64");
    }
  }

  // Canonical order: by currency, then by invoice id. The solver sees the same graph
  // whatever the input order, so the notices do not depend on it.
  std::vector<size_t> order(invoices.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    if (invoices[x].currency != invoices[y].currency) {
      return invoices[x].currency < invoices[y].currency;
    }
    return invoices[x].id < invoices[y].id;
  });

  SetoffResult result;
  std::vector<int64_t> remainder(invoices.size(), 0);
  size_t first_position = 0;
  for (size_t begin = 0; begin < order.size();) {
    const CurrencyId currency = invoices[order[begin]].currency;
    size_t end = begin;
    while (end < order.size() && invoices[order[end]].currency == currency) ++end;
    const Int128 gross = gross_of.at(currency);
    size_t last_position = first_position;
    while (last_position < keys.size() && keys[last_position].first == currency.value()) {
      ++last_position;
    }
    CurrencySetoff totals;
    totals.currency = currency;
    totals.invoices = end - begin;
    totals.gross = Amount(static_cast<int64_t>(gross));
    SolveCurrency(invoices, positions, std::span<const size_t>(order).subspan(begin, end - begin),
                  first_position, last_position - first_position, remainder,
                  totals.solver_invoices);

    // Money invariants of the run, checked in every build: 0 ≤ set-off ≤ amount, and no
    // firm's net position moves.
    std::vector<Int128> net_after(last_position - first_position, 0);
    Int128 remaining = 0;
    for (size_t k = begin; k < end; ++k) {
      const Invoice& inv = invoices[order[k]];
      const int64_t r = remainder[order[k]];
      AYNI_CHECK(r >= 0 && r <= inv.amount.minor());
      remaining += r;
      net_after[positions[order[k]].creditor - first_position] += r;
      net_after[positions[order[k]].debtor - first_position] -= r;
    }
    Int128 net_balance = 0;
    for (size_t p = first_position; p < last_position; ++p) {
      const Int128 net = sums[p].receivable - sums[p].payable;
      AYNI_CHECK(net_after[p - first_position] == net);
      if (net > 0) net_balance += net;
      result.positions.push_back(
          {currency, MemberId(keys[p].second), Amount(static_cast<int64_t>(sums[p].receivable)),
           Amount(static_cast<int64_t>(sums[p].payable)), Amount(static_cast<int64_t>(net))});
    }
    // Remaining debt covers at least every net creditor's position.
    AYNI_CHECK(remaining >= net_balance && remaining <= gross);
    totals.remaining = Amount(static_cast<int64_t>(remaining));
    totals.set_off = Amount(static_cast<int64_t>(gross - remaining));
    totals.net_balance = Amount(static_cast<int64_t>(net_balance));
    result.currencies.push_back(totals);
    first_position = last_position;
    begin = end;
  }
  AYNI_CHECK(first_position == keys.size());

  result.notices.reserve(invoices.size());
  for (size_t i = 0; i < invoices.size(); ++i) {
    const int64_t r = remainder[i];
    result.notices.push_back({invoices[i].id, Amount(invoices[i].amount.minor() - r), Amount(r)});
  }
  return result;
}

Result<MutualCreditPlan> PlanMutualCredit(CurrencyId currency, std::span<const Invoice> invoices,
                                          const SetoffResult& setoff,
                                          std::span<const MemberHeadroom> headroom) {
  if (!currency.valid()) return Status::InvalidArgument("mutual-credit currency not set");
  if (setoff.notices.size() != invoices.size()) {
    return Status::InvalidArgument("set-off notices (" + std::to_string(setoff.notices.size()) +
                                   ") do not match the invoices (" +
                                   std::to_string(invoices.size()) + ")");
  }
  for (size_t i = 0; i < invoices.size(); ++i) {
    const SetoffNotice& n = setoff.notices[i];
    if (n.invoice != invoices[i].id || n.set_off.negative() || n.remainder.negative() ||
        n.set_off.CheckedAdd(n.remainder) != invoices[i].amount) {
      return Status::InvalidArgument("set-off notice #" + std::to_string(i) + " does not match " +
                                     Name(invoices[i], i));
    }
  }

  // Running headroom per member; Int128 so that payments received never overflow it.
  struct Room {
    MemberId member;
    Int128 down;
    std::optional<Int128> up;
  };
  std::vector<Room> rooms;
  rooms.reserve(headroom.size());
  for (const MemberHeadroom& h : headroom) {
    const std::string who = "member " + std::to_string(h.member.value());
    if (!h.member.valid()) return Status::InvalidArgument("headroom for member id zero");
    if (h.down.negative()) return Status::InvalidArgument(who + ": down headroom is negative");
    if (h.up && h.up->negative()) {
      return Status::InvalidArgument(who + ": up headroom is negative");
    }
    rooms.push_back(
        {h.member, h.down.minor(), h.up ? std::optional<Int128>(h.up->minor()) : std::nullopt});
  }
  std::sort(rooms.begin(), rooms.end(),
            [](const Room& x, const Room& y) { return x.member < y.member; });
  for (size_t k = 1; k < rooms.size(); ++k) {
    if (rooms[k].member == rooms[k - 1].member) {
      return Status::InvalidArgument("headroom repeats member " +
                                     std::to_string(rooms[k].member.value()));
    }
  }
  const auto find = [&](MemberId m) -> Room* {
    const auto it = std::lower_bound(rooms.begin(), rooms.end(), m,
                                     [](const Room& r, MemberId v) { return r.member < v; });
    return it != rooms.end() && it->member == m ? &*it : nullptr;
  };

  MutualCreditPlan plan;
  Int128 before = 0, after_setoff = 0, paid = 0;
  for (size_t i = 0; i < invoices.size(); ++i) {
    const Invoice& inv = invoices[i];
    if (inv.currency != currency) continue;
    const Int128 remainder = setoff.notices[i].remainder.minor();
    before += inv.amount.minor();
    after_setoff += remainder;
    Room* from = find(inv.debtor);
    Room* to = find(inv.creditor);
    if (from == nullptr || to == nullptr || from == to || remainder == 0) continue;
    Int128 x = std::min(remainder, from->down);
    if (to->up) x = std::min(x, *to->up);
    if (x <= 0) continue;
    from->down -= x;
    if (from->up) *from->up += x;
    to->down += x;
    if (to->up) *to->up -= x;
    paid += x;
    plan.payments.push_back({inv.id, inv.debtor, inv.creditor, Amount(static_cast<int64_t>(x))});
  }
  if (!FitsInt64(before)) {
    return Status::InvalidArgument("gross debt in currency " + std::to_string(currency.value()) +
                                   " overflows int64");
  }
  plan.debt_before = Amount(static_cast<int64_t>(before));
  plan.debt_after_setoff = Amount(static_cast<int64_t>(after_setoff));
  plan.debt_after_mutual_credit = Amount(static_cast<int64_t>(after_setoff - paid));
  return plan;
}

}  // namespace ayni
