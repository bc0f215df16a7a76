#include <algorithm>
#include <charconv>
#include <set>

#include "server/cli/args.h"

namespace ayni::cli {
namespace {

std::optional<uint64_t> PositiveId(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0) return std::nullopt;
  return v;
}

std::optional<int32_t> SmallInt(std::string_view s) {
  if (s.empty() || s.size() > 6) return std::nullopt;
  int32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

Status FillLoanCommand(Verb verb, std::string_view usage_line, const std::vector<std::string>& pos,
                       const std::map<std::string, std::string>& opts, Command& c) {
  auto usage = [&](const std::string& what) {
    return Status::InvalidArgument(what + "\nusage: ayni " + std::string(usage_line));
  };
  auto opt = [&](const char* name) -> const std::string* {
    auto it = opts.find(name);
    return it == opts.end() ? nullptr : &it->second;
  };
  auto id_of = [&](const std::string& text, const std::string& what, uint64_t& out) {
    auto v = PositiveId(text);
    if (!v) return usage(what + " must be a positive integer id, got \"" + text + "\"");
    out = *v;
    return Status::Ok();
  };
  auto id_opt = [&](const char* name, uint64_t& out) {
    const std::string* v = opt(name);
    return v ? id_of(*v, name, out) : Status::Ok();
  };
  auto amount_of = [&](const std::string& text, const std::string& what, std::string& out) {
    if (!IsDecimalSyntax(text)) {
      return usage(what + " must be a plain decimal like 30 or 30.50, got \"" + text + "\"");
    }
    out = text;
    return Status::Ok();
  };
  auto int_opt = [&](const char* name, bool required, int32_t& out) {
    const std::string* v = opt(name);
    if (!v) return required ? usage(std::string(name) + " is required") : Status::Ok();
    auto n = SmallInt(*v);
    if (!n) return usage(std::string(name) + " must be a non-negative integer, got \"" + *v + "\"");
    out = *n;
    return Status::Ok();
  };
  auto text_of = [&](size_t i, const char* what, std::string& out) {
    if (pos[i].empty()) return usage(std::string(what) + " must not be empty");
    out = pos[i];
    return Status::Ok();
  };
  if (const std::string* b = opt("--bank")) c.bank_code = *b;
  if (const std::string* r = opt("--reason")) c.reason = *r;
  LoanArgs& l = c.loan;
  Status s;
  switch (verb) {
    case Verb::kLoanProductCreate: {
      if (!(s = text_of(0, "BANK_CODE", c.bank_code)).ok()) return s;
      if (!(s = text_of(1, "NAME", c.text)).ok()) return s;
      if (!(s = text_of(2, "CURRENCY_CODE", c.currency_code)).ok()) return s;
      const std::string* max = opt("--max");
      if (!max) return usage("--max is required");
      if (!(s = amount_of(*max, "--max", l.max_principal)).ok()) return s;
      if (!(s = int_opt("--instalments", true, l.instalments)).ok()) return s;
      if (!(s = int_opt("--period-days", true, l.period_days)).ok()) return s;
      if (!(s = int_opt("--rate-bp", false, l.rate_bp)).ok()) return s;
      return int_opt("--grace-days", false, l.grace_days);
    }
    case Verb::kLoanGroupCreate: {
      if (!(s = text_of(0, "BANK_CODE", c.bank_code)).ok()) return s;
      if (!(s = text_of(1, "NAME", c.text)).ok()) return s;
      for (size_t i = 2; i < pos.size(); ++i) {
        uint64_t m = 0;
        if (!(s = id_of(pos[i], "MEMBER_ID", m)).ok()) return s;
        l.members.push_back(m);
      }
      const std::string* liable = opt("--liable");
      if (!liable) return usage("--liable is required (the jointly liable members, e.g. 3,4)");
      size_t start = 0;
      while (start <= liable->size()) {
        const size_t comma = std::min(liable->find(',', start), liable->size());
        uint64_t m = 0;
        if (!(s = id_of(liable->substr(start, comma - start), "--liable", m)).ok()) return s;
        l.liable.push_back(m);
        start = comma + 1;
      }
      const std::set<uint64_t> members(l.members.begin(), l.members.end());
      if (members.size() != l.members.size()) return usage("a MEMBER_ID is given twice");
      for (uint64_t m : l.liable) {
        if (!members.count(m))
          return usage("--liable member " + std::to_string(m) + " is not in the group");
      }
      return Status::Ok();
    }
    case Verb::kLoanDisburse:
      if (!(s = id_of(pos[0], "PRODUCT_ID", c.id)).ok()) return s;
      if (!(s = amount_of(pos[1], "AMOUNT", c.amount)).ok()) return s;
      if (!(s = id_opt("--member", l.member)).ok()) return s;
      if (!(s = id_opt("--group", l.group)).ok()) return s;
      if ((l.member == 0) == (l.group == 0))
        return usage("give exactly one of --member and --group");
      return id_opt("--account", l.account);
    case Verb::kLoanRepay:
      if (!(s = id_of(pos[0], "LOAN_ID", c.id)).ok()) return s;
      if (!(s = amount_of(pos[1], "AMOUNT", c.amount)).ok()) return s;
      return id_opt("--account", l.account);
    case Verb::kLoanWriteOff:
      if (!(s = id_of(pos[0], "LOAN_ID", c.id)).ok()) return s;
      if (c.reason.empty()) return usage("--reason is required");
      return Status::Ok();
    case Verb::kLoanShow:
      return id_of(pos[0], "LOAN_ID", c.id);
    case Verb::kLoanList: {
      if (c.bank_code.empty()) return usage("--bank is required");
      if (!(s = id_opt("--member", l.member)).ok()) return s;
      if (!(s = id_opt("--group", l.group)).ok()) return s;
      if (const std::string* st = opt("--status")) {
        static const std::map<std::string, int32_t> kStatus = {
            {"active", 0}, {"repaid", 1}, {"written-off", 2}};
        auto it = kStatus.find(*st);
        if (it == kStatus.end()) return usage("--status must be active, repaid or written-off");
        l.status = it->second;
      }
      return Status::Ok();
    }
    case Verb::kLoanProductList:
    case Verb::kLoanPortfolio:
      return Status::Ok();
    default:
      return usage("not a loans command");
  }
}

}  // namespace ayni::cli
