// The card and kiosk commands' grammar (card_args.cc): each verb parses into the right
// Command and CardArgs, and each bad input (hex of the wrong length or not hex, all-zero
// ids, a missing or oversized text, a non-numeric account) is refused before any RPC with
// the command's usage line and a message naming what is wrong.
#include <gtest/gtest.h>

#include <sstream>

#include "server/cli/args.h"

namespace ayni::cli {
namespace {

constexpr const char* kCard = "00112233445566778899aabbccddeeff";
constexpr const char* kTerminal = "0A0B0C0D0E0F10111213141516171819";
constexpr const char* kKey = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream is(line);
  std::string w;
  while (is >> w) out.push_back(w);
  return out;
}

Invocation Parse(const std::vector<std::string>& args) {
  auto r = ParseArgs(args, "");
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : Invocation{};
}
Invocation Parse(const std::string& line) { return Parse(Split(line)); }

// The usage error's message, which must name `usage_start`'s command.
std::string Refused(const std::vector<std::string>& args, const std::string& usage_start) {
  auto r = ParseArgs(args, "");
  std::string joined;
  for (const auto& a : args) joined += a + " ";
  EXPECT_FALSE(r.ok()) << joined;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("usage: ayni " + usage_start), std::string::npos)
      << r.status().message();
  return r.status().message();
}
std::string Refused(const std::string& line, const std::string& usage_start) {
  return Refused(Split(line), usage_start);
}

std::string Register(const std::string& terminal, const std::string& key,
                     const std::string& merchant) {
  return std::string("kiosk register --terminal-id ") + terminal + " --public-key " + key +
         " --merchant " + merchant + " --label banca3";
}

TEST(CardArgsTest, KioskRegisterParsesHexAndAccount) {
  const Invocation i = Parse({"kiosk", "register", "--terminal-id", kTerminal, "--public-key", kKey,
                              "--merchant", "12", "--label", "feira do bairro, banca 3"});
  EXPECT_EQ(i.command.verb, Verb::kKioskRegister);
  EXPECT_EQ(i.command.name, "kiosk register");
  EXPECT_EQ(HexOf(i.command.card.terminal_id.data(), 16), "0a0b0c0d0e0f10111213141516171819");
  EXPECT_EQ(HexOf(i.command.card.public_key.data(), 32), kKey);
  EXPECT_EQ(i.command.card.merchant_account, 12u);
  EXPECT_EQ(i.command.text, "feira do bairro, banca 3");
  EXPECT_FALSE(i.command.request_id.has_value());
  const Invocation r =
      Parse(Register(kTerminal, kKey, "12") + " --request-id " + std::string(kCard));
  ASSERT_TRUE(r.command.request_id.has_value());
}

TEST(CardArgsTest, KioskRegisterRefusals) {
  const std::string u = "kiosk register";
  // Terminal id: too short, too long, not hex, all zero; missing.
  EXPECT_NE(Refused(Register("0a0b", kKey, "12"), u).find("--terminal-id must be 32 hex digits"),
            std::string::npos);
  Refused(Register(std::string(kTerminal) + "00", kKey, "12"), u);
  Refused(Register("0g0b0c0d0e0f10111213141516171819", kKey, "12"), u);
  EXPECT_NE(Refused(Register(std::string(32, '0'), kKey, "12"), u).find("all zero"),
            std::string::npos);
  Refused("kiosk register --public-key " + std::string(kKey) + " --merchant 1 --label x", u);
  // Public key: a 16-byte value is not a key; all zero; missing.
  EXPECT_NE(Refused(Register(kTerminal, kCard, "12"), u).find("--public-key must be 64 hex"),
            std::string::npos);
  Refused(Register(kTerminal, std::string(64, '0'), "12"), u);
  Refused("kiosk register --terminal-id " + std::string(kTerminal) + " --merchant 1 --label x", u);
  // Merchant: not an id.
  for (const char* m : {"0", "-3", "+3", "abc", "1.5", "99999999999999999999999"}) {
    EXPECT_NE(Refused(Register(kTerminal, kKey, m), u).find("--merchant must be a positive"),
              std::string::npos)
        << m;
  }
  // Label: missing, empty, over 120 bytes.
  Refused("kiosk register --terminal-id " + std::string(kTerminal) + " --public-key " + kKey +
              " --merchant 1",
          u);
  Refused({"kiosk", "register", "--terminal-id", kTerminal, "--public-key", kKey, "--merchant", "1",
           "--label", ""},
          u);
  EXPECT_NE(Refused({"kiosk", "register", "--terminal-id", kTerminal, "--public-key", kKey,
                     "--merchant", "1", "--label", std::string(121, 'x')},
                    u)
                .find("at most 120 bytes"),
            std::string::npos);
  // No positionals, no --csv (not a listing).
  Refused(Register(kTerminal, kKey, "12") + " extra", u);
  Refused("--csv " + Register(kTerminal, kKey, "12"), u);
}

TEST(CardArgsTest, CardBlock) {
  const Invocation i = Parse({"card", "block", kCard, "--actor", "ana", "--reason", "lost card"});
  EXPECT_EQ(i.command.verb, Verb::kCardBlock);
  EXPECT_EQ(HexOf(i.command.card.card_id.data(), 16), kCard);
  EXPECT_EQ(i.command.actor, "ana");
  EXPECT_EQ(i.command.reason, "lost card");
  const std::string u = "card block";
  Refused(std::string("card block ") + kCard + " --reason lost", u);  // no --actor
  Refused(std::string("card block ") + kCard + " --actor ana", u);    // no --reason
  Refused("card block 0011 --actor ana --reason lost", u);
  Refused("card block " + std::string(32, '0') + " --actor ana --reason lost", u);
  Refused("card block --actor ana --reason lost", u);  // no card
  Refused({"card", "block", kCard, "--actor", std::string(121, 'a'), "--reason", "r"}, u);
  EXPECT_NE(Refused({"card", "block", kCard, "--actor", "a", "--reason", std::string(201, 'r')}, u)
                .find("--reason must be at most 200 bytes"),
            std::string::npos);
}

TEST(CardArgsTest, CardShowAndDenyList) {
  Invocation i = Parse(std::string("--json card show ") + kCard);
  EXPECT_EQ(i.command.verb, Verb::kCardShow);
  EXPECT_EQ(i.global.format, OutputFormat::kJson);
  EXPECT_EQ(HexOf(i.command.card.card_id.data(), 16), kCard);
  EXPECT_NE(Refused("card show 00112233", "card show").find("CARD_ID must be 32 hex digits"),
            std::string::npos);
  Refused("card show", "card show");
  Refused(std::string("card show ") + kCard + " " + kCard, "card show");
  Refused(std::string("--csv card show ") + kCard, "card show");
  i = Parse("card deny-list");
  EXPECT_EQ(i.command.verb, Verb::kCardDenyList);
  i = Parse("--csv card deny-list");
  EXPECT_EQ(i.global.format, OutputFormat::kCsv);
  Refused("card deny-list --bank X", "card deny-list");
}

TEST(CardArgsTest, AuditCards) {
  Invocation i = Parse("audit cards");
  EXPECT_EQ(i.command.verb, Verb::kAuditCards);
  EXPECT_EQ(i.command.name, "audit cards");
  EXPECT_TRUE(i.command.bank_code.empty());
  i = Parse("--csv audit cards --bank PALMAS");
  EXPECT_EQ(i.command.bank_code, "PALMAS");
  EXPECT_EQ(i.global.format, OutputFormat::kCsv);
  i = Parse("audit cards --json");
  EXPECT_EQ(i.global.format, OutputFormat::kJson);
  Refused({"audit", "cards", "--bank", ""}, "audit cards");
  Refused("audit cards PALMAS", "audit cards");
}

TEST(CardArgsTest, HelpNamesTheCommandsAndWhereCardsAreIssued) {
  const std::string u = UsageText();
  for (const char* c :
       {"kiosk register", "card block", "card show", "card deny-list", "audit cards",
        "ayni-kiosk issue", "ayni-kiosk load", "ayni key create kiosk terminal", "FINDING"}) {
    EXPECT_NE(u.find(c), std::string::npos) << c;
  }
}

TEST(CardArgsTest, ParseHexBytes) {
  uint8_t b[2] = {};
  EXPECT_TRUE(ParseHexBytes("aB09", b, 2));
  EXPECT_EQ(b[0], 0xab);
  EXPECT_EQ(b[1], 0x09);
  EXPECT_FALSE(ParseHexBytes("ab0", b, 2));
  EXPECT_FALSE(ParseHexBytes("ab0x", b, 2));
  EXPECT_FALSE(ParseHexBytes("", b, 2));
  EXPECT_TRUE(ParseHexBytes("0000", b, 2));  // zero is for the caller to refuse
}

}  // namespace
}  // namespace ayni::cli
