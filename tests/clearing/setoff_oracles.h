// Independent oracles for obligation set-off (issue 6): they share no code with
// clearing/setoff.cc, not even its net-position arithmetic, and use neither LEMON nor the
// SCC reduction. Each answers the same question, "the least total debt that can remain
// with every firm's net position unchanged and 0 ≤ remaining ≤ amount on every invoice",
// for the invoices of ONE currency.
//
//   ExhaustiveMinRemaining  tries every vector of remaining amounts (tiny graphs only)
//   LpMinRemaining          the linear program, solved by GLPK (simplex, then GLPK's exact
//                           rational simplex); network matrices are totally unimodular, so
//                           the LP optimum is integral and comparable exactly.
#pragma once

#include <glpk.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <vector>

namespace ayni::oracle {

struct Edge {
  uint64_t debtor, creditor;
  int64_t amount;
};

inline std::map<uint64_t, int64_t> NetPositions(const std::vector<Edge>& edges,
                                                const std::vector<int64_t>& flow) {
  std::map<uint64_t, int64_t> net;
  for (size_t e = 0; e < edges.size(); ++e) {
    net[edges[e].creditor] += flow[e];
    net[edges[e].debtor] -= flow[e];
  }
  std::erase_if(net, [](const auto& kv) { return kv.second == 0; });
  return net;
}

// Odometer over remaining[e] in [0, amount[e]]: Π (amount + 1) candidates.
inline int64_t ExhaustiveMinRemaining(const std::vector<Edge>& edges) {
  std::vector<int64_t> amounts;
  for (const Edge& e : edges) amounts.push_back(e.amount);
  const std::map<uint64_t, int64_t> target = NetPositions(edges, amounts);
  std::vector<int64_t> flow(edges.size(), 0);
  int64_t best = std::numeric_limits<int64_t>::max();
  while (true) {
    int64_t total = 0;
    for (int64_t f : flow) total += f;
    if (total < best && NetPositions(edges, flow) == target) best = total;
    size_t k = 0;
    while (k < flow.size() && flow[k] == edges[k].amount) flow[k++] = 0;
    if (k == flow.size()) break;
    ++flow[k];
  }
  return best;
}

// nullopt when GLPK does not report an optimum (never expected: remaining = amount is
// feasible and the objective is bounded below by 0). `exact` adds GLPK's rational simplex
// after the floating-point one (slow on very large instances).
inline std::optional<int64_t> LpMinRemaining(const std::vector<Edge>& edges, bool exact = true) {
  std::map<uint64_t, int> row;  // firm -> 1-based row
  for (const Edge& e : edges) {
    row.emplace(e.debtor, 0);
    row.emplace(e.creditor, 0);
  }
  int r = 0;
  for (auto& [firm, index] : row) index = ++r;
  std::vector<double> rhs(row.size() + 1, 0.0);  // out-flow − in-flow of each firm
  for (const Edge& e : edges) {
    rhs[row[e.debtor]] += static_cast<double>(e.amount);
    rhs[row[e.creditor]] -= static_cast<double>(e.amount);
  }
  glp_term_out(GLP_OFF);
  glp_prob* lp = glp_create_prob();
  glp_set_obj_dir(lp, GLP_MIN);
  glp_add_rows(lp, static_cast<int>(row.size()));
  for (int i = 1; i <= static_cast<int>(row.size()); ++i) {
    glp_set_row_bnds(lp, i, GLP_FX, rhs[i], rhs[i]);
  }
  glp_add_cols(lp, static_cast<int>(edges.size()));
  std::vector<int> ia{0}, ja{0};
  std::vector<double> ar{0.0};
  for (size_t e = 0; e < edges.size(); ++e) {
    const int col = static_cast<int>(e) + 1;
    glp_set_col_bnds(lp, col, GLP_DB, 0.0, static_cast<double>(edges[e].amount));
    glp_set_obj_coef(lp, col, 1.0);
    ia.push_back(row[edges[e].debtor]);
    ja.push_back(col);
    ar.push_back(1.0);
    ia.push_back(row[edges[e].creditor]);
    ja.push_back(col);
    ar.push_back(-1.0);
  }
  glp_load_matrix(lp, static_cast<int>(ia.size()) - 1, ia.data(), ja.data(), ar.data());
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  std::optional<int64_t> result;
  if (glp_simplex(lp, &parm) == 0 && (!exact || glp_exact(lp, &parm) == 0) &&
      glp_get_status(lp) == GLP_OPT) {
    result = std::llround(glp_get_obj_val(lp));
  }
  glp_delete_prob(lp);
  return result;
}

}  // namespace ayni::oracle
