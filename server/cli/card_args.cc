#include "server/cli/card_args.h"

#include <charconv>

#include "server/cli/args.h"

namespace ayni::cli {
namespace {

bool AllZero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

}  // namespace

Status FillCardCommand(Verb verb, std::string_view usage_line, const std::vector<std::string>& pos,
                       const std::map<std::string, std::string>& opts, Command& c) {
  auto usage = [&](const std::string& what) {
    return Status::InvalidArgument(what + "\nusage: ayni " + std::string(usage_line));
  };
  // `digits` hex digits into `out`, not all zero.
  auto hex = [&](const std::string& text, const std::string& what, uint8_t* out, size_t size) {
    if (!ParseHexBytes(text, out, size)) {
      return usage(what + " must be " + std::to_string(2 * size) + " hex digits, got " +
                   std::to_string(text.size()) + " characters: \"" + text + "\"");
    }
    if (AllZero(out, size)) return usage(what + " must not be all zero");
    return Status::Ok();
  };
  // A required text option of 1 … max bytes.
  auto text = [&](const char* name, size_t max, std::string& out) {
    auto it = opts.find(name);
    if (it == opts.end()) return usage(std::string("missing ") + name);
    if (it->second.empty()) return usage(std::string(name) + " must not be empty");
    if (it->second.size() > max) {
      return usage(std::string(name) + " must be at most " + std::to_string(max) + " bytes, got " +
                   std::to_string(it->second.size()));
    }
    out = it->second;
    return Status::Ok();
  };
  CardArgs& a = c.card;
  Status s;
  switch (verb) {
    case Verb::kKioskRegister: {
      auto it = opts.find("--terminal-id");
      if (it == opts.end()) return usage("missing --terminal-id");
      if (!(s = hex(it->second, "--terminal-id", a.terminal_id.data(), a.terminal_id.size())).ok())
        return s;
      it = opts.find("--public-key");
      if (it == opts.end()) return usage("missing --public-key");
      if (!(s = hex(it->second, "--public-key", a.public_key.data(), a.public_key.size())).ok())
        return s;
      it = opts.find("--merchant");
      if (it == opts.end()) return usage("missing --merchant");
      const std::string& m = it->second;
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(m.data(), m.data() + m.size(), v);
      if (m.empty() || m.size() > 20 || ec != std::errc() || p != m.data() + m.size() || v == 0) {
        return usage("--merchant must be a positive integer account id, got \"" + m + "\"");
      }
      a.merchant_account = v;
      return text("--label", kKioskLabelBytesMax, c.text);
    }
    case Verb::kCardBlock:
      if (!(s = hex(pos[0], "CARD_ID", a.card_id.data(), a.card_id.size())).ok()) return s;
      if (!(s = text("--actor", kCardActorBytesMax, c.actor)).ok()) return s;
      return text("--reason", kCardReasonBytesMax, c.reason);
    case Verb::kCardShow:
      return hex(pos[0], "CARD_ID", a.card_id.data(), a.card_id.size());
    case Verb::kCardDenyList:
      return Status::Ok();
    case Verb::kAuditCards:
      if (auto it = opts.find("--bank"); it != opts.end()) {
        if (it->second.empty()) return usage("--bank must not be empty");
        c.bank_code = it->second;
      }
      return Status::Ok();
    default:
      return usage("not a card or kiosk command");
  }
}

}  // namespace ayni::cli
