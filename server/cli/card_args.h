// The arguments of the card and kiosk commands (SPEC §5, §7) beyond Command's shared
// fields, and their parser (card_args.cc), kept apart from args.cc's grammar of the other
// verbs: `kiosk register`, `card block|show|deny-list`, `audit cards`.
//
// Byte strings are typed as hex and checked here by length (a card or terminal id is 32
// hex digits, an Ed25519 public key 64) and for not being all zero, so a malformed one is
// a usage error before any RPC. Texts are checked against the proto's byte limits.
// Cards are registered and loaded with a card reader (`ayni-kiosk`), not here.
// Pure functions; value types; thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "clearing/status.h"

namespace ayni::cli {

// Limits of cards.proto, checked before sending.
inline constexpr size_t kKioskLabelBytesMax = 120;
inline constexpr size_t kCardActorBytesMax = 120;
inline constexpr size_t kCardReasonBytesMax = 200;

struct CardArgs {
  std::array<uint8_t, 16> card_id{};      // card block|show
  std::array<uint8_t, 16> terminal_id{};  // kiosk register --terminal-id
  std::array<uint8_t, 32> public_key{};   // kiosk register --public-key (Ed25519)
  uint64_t merchant_account = 0;          // kiosk register --merchant
};

struct Command;
enum class Verb;

// Fills `c` for a card or kiosk verb from its positionals and options (args.cc checked
// their names and counts). INVALID_ARGUMENT ending with `usage` on a usage error.
Status FillCardCommand(Verb verb, std::string_view usage, const std::vector<std::string>& pos,
                       const std::map<std::string, std::string>& opts, Command& c);

}  // namespace ayni::cli
