#include "server/cli/cards_cli.h"

#include <map>
#include <vector>

#include "ayni/v1/cards.grpc.pb.h"
#include "clearing/amount_text.h"
#include "proto/client/output.h"
#include "server/cli/session.h"

namespace ayni::cli {
namespace {

// Evidence records are shown by their first bytes (version, type, scheme, card id…);
// --json carries them whole.
constexpr size_t kEvidenceShownBytes = 16;

std::string Hex(const std::string& bytes) {
  return HexOf(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

template <size_t N>
std::string Bytes(const std::array<uint8_t, N>& a) {
  return std::string(reinterpret_cast<const char*>(a.data()), a.size());
}

std::string BlockReasonName(v1::CardBlockReason r) {
  std::string s = v1::CardBlockReason_Name(r);
  if (s.empty()) return "#" + std::to_string(static_cast<int>(r));
  return s.rfind("CARD_BLOCK_REASON_", 0) == 0 ? s.substr(18) : s;
}

// Unix seconds as a UTC time; past what nanoseconds in 64 bits hold, the number itself.
std::string ExpiryText(uint64_t s) {
  constexpr uint64_t kSecondsMax = UINT64_MAX / 1000000000u;
  return s > kSecondsMax ? std::to_string(s) + " (unix seconds)" : TimeText(s * 1000000000u);
}

std::string HexArray(const google::protobuf::RepeatedPtrField<std::string>& v) {
  std::vector<std::string> out;
  for (const auto& b : v) out.push_back(JsonQuote(Hex(b)));
  return JsonArray(out);
}

std::string EvidenceText(const v1::Card& c) {
  std::string s;
  for (const auto& e : c.evidence()) {
    if (!s.empty()) s += ' ';
    s += Hex(e.substr(0, kEvidenceShownBytes)) + (e.size() > kEvidenceShownBytes ? "…" : "");
  }
  return s.empty() ? "-" : s;
}

class CardRunner : public Session {
 public:
  CardRunner(const Command& c, RunContext& ctx)
      : Session(c, ctx), cards_(v1::CardService::NewStub(ctx.channel)) {}

  int Run();

 private:
  bool Currencies() {
    if (!currencies_.empty()) return true;
    v1::ListCurrenciesReply rep;
    if (!Call("ListCurrencies", [&](auto* cc) {
          return setup_->ListCurrencies(cc, v1::ListCurrenciesRequest(), &rep);
        }))
      return false;
    for (const auto& cur : rep.currencies()) currencies_[cur.currency_id()] = cur;
    return true;
  }
  // The currency's scale when listed, else the national one (guaranteed currencies share it).
  int64_t ScaleOf(uint64_t currency_id) const {
    auto it = currencies_.find(currency_id);
    return it != currencies_.end() && it->second.scale() > 0 ? it->second.scale() : Scale();
  }
  std::string CodeOf(uint64_t currency_id) const {
    auto it = currencies_.find(currency_id);
    return it != currencies_.end() ? it->second.code() : "#" + std::to_string(currency_id);
  }

  int KioskRegister();
  int Block();
  int Show();
  int DenyList();
  int Audit();

  std::unique_ptr<v1::CardService::Stub> cards_;
  std::map<uint64_t, v1::Currency> currencies_;
};

int CardRunner::KioskRegister() {
  const CardArgs& a = c_.card;
  v1::RegisterKioskRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_terminal_id(Bytes(a.terminal_id));
  req.set_public_key(Bytes(a.public_key));
  req.set_merchant_account_id(a.merchant_account);
  req.set_label(c_.text);
  v1::RegisterKioskReply rep;
  if (!Send("RegisterKiosk", [&](auto* cc) { return cards_->RegisterKiosk(cc, req, &rep); }))
    return exit_;
  const std::string id = std::to_string(rep.kiosk_id());
  return Finish(rep, {{"kiosk id", id},
                      {"terminal id", Hex(req.terminal_id())},
                      {"public key", Hex(req.public_key())},
                      {"merchant account", std::to_string(a.merchant_account)},
                      {"label", c_.text},
                      {"next", "give the kiosk its API key: ayni key create kiosk terminal " + id +
                                   " LABEL --token-file FILE"}});
}

int CardRunner::Block() {
  v1::BlockCardRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_card_id(Bytes(c_.card.card_id));
  req.set_actor(c_.actor);
  req.set_reason(c_.reason);
  v1::BlockCardReply rep;
  if (!Send("BlockCard", [&](auto* cc) { return cards_->BlockCard(cc, req, &rep); })) return exit_;
  return Finish(rep, {{"card id", Hex(req.card_id())},
                      {"actor", c_.actor},
                      {"block reason", c_.reason},
                      {"effect", "on the deny-list; its pending loads go back to the member"}});
}

int CardRunner::Show() {
  if (!Deployment() || !Banks() || !Currencies()) return exit_;
  v1::GetCardRequest req;
  req.set_card_id(Bytes(c_.card.card_id));
  v1::GetCardReply rep;
  if (!Call("GetCard", [&](auto* cc) { return cards_->GetCard(cc, req, &rep); })) return exit_;
  const v1::Card& card = rep.card();
  const int64_t scale = ScaleOf(card.currency_id());
  const std::string code = CodeOf(card.currency_id());
  if (json_) {
    JsonObject o;
    o.Add("command", c_.name)
        .Add("exit_code", int64_t{0})
        .Add("card_id", Hex(card.card_id()))
        .Add("currency", code)
        .Add("blocked", card.blocked())
        .AddRaw("evidence_hex", HexArray(card.evidence()))
        .AddRaw("reply", ToJson(rep));
    Out() << o.str() << '\n';
    return exit_ = kExitOk;
  }
  auto money = [&](int64_t minor) { return FormatAmount(minor, scale, code); };
  std::string status =
      card.blocked() ? "BLOCKED (" + BlockReasonName(card.block_reason()) +
                           (card.block_detail().empty() ? "" : ": " + card.block_detail()) + ")"
                     : "ACTIVE";
  const v1::CardLimits& l = card.limits();
  Fields f = {{"card id", Hex(card.card_id())},
              {"status", status},
              {"account", std::to_string(card.account_id())},
              {"bank", BankCode(card.bank_id())},
              {"currency", code},
              {"expires", ExpiryText(card.expiry_s())},
              {"shadow balance", money(card.shadow_balance_minor())},
              {"limits", "payment " + money(l.payment_max_minor()) + ", offline " +
                             money(l.offline_amount_max_minor()) + " in " +
                             std::to_string(l.offline_count_max()) + " payments, balance " +
                             money(l.balance_max_minor())},
              {"last counter", std::to_string(card.max_counter())},
              {"records seen", std::to_string(card.records())},
              {"missing counters", std::to_string(card.missing_counters())},
              {"evidence records", std::to_string(card.evidence_size())}};
  std::string text = RenderFields(f);
  if (card.evidence_size() > 0) text += "evidence (first bytes): " + EvidenceText(card) + "\n";
  Table t({"LOAD", "AMOUNT", "COUNTER", "STATE", "AUTHORIZED"}, {false, true, true, false, false});
  for (const auto& ld : card.loads()) {
    t.AddRow({Hex(ld.load_id()), FormatAmount(ld.amount_minor(), scale, ""),
              std::to_string(ld.counter()), ld.state(), TimeText(ld.authorized_ns())});
  }
  text += "\nloads (" + std::to_string(card.loads_size()) + ", " + code + ")\n";
  if (t.rows() > 0) text += t.RenderText();
  return PrintRead("", text);
}

// Needs only GetDenyList, which a KIOSK key may call (it may not list banks): banks are
// shown by id.
int CardRunner::DenyList() {
  v1::GetDenyListReply rep;
  if (!Call("GetDenyList",
            [&](auto* cc) { return cards_->GetDenyList(cc, v1::GetDenyListRequest(), &rep); }))
    return exit_;
  Table cards({"N", "CARD_ID"}, {true, false});
  int n = 0;
  for (const auto& id : rep.blocked_card_ids()) cards.AddRow({std::to_string(++n), Hex(id)});
  if (json_) {
    JsonObject o;
    o.Add("command", c_.name)
        .Add("exit_code", int64_t{0})
        .AddRaw("blocked_card_ids_hex", HexArray(rep.blocked_card_ids()))
        .AddRaw("reply", ToJson(rep));
    Out() << o.str() << '\n';
    return exit_ = kExitOk;
  }
  if (csv_) return PrintRead("", cards.RenderCsv());
  Table keys({"BANK_ID", "PUBLIC_KEY"}, {true, false});
  for (const auto& k : rep.bank_keys()) {
    keys.AddRow({std::to_string(k.bank_id()), Hex(k.public_key())});
  }
  std::string text = "deny-list at " + TimeText(rep.timestamp_ns()) + ": " +
                     std::to_string(rep.blocked_card_ids_size()) + " blocked cards\n";
  if (cards.rows() > 0) text += cards.RenderText();
  text += "\nbank keys (verify card certificates)\n" + keys.RenderText();
  return PrintRead("", text);
}

int CardRunner::Audit() {
  std::vector<v1::Bank> banks;
  if (!Deployment() || !BanksNamed(c_.bank_code, &banks) || !Currencies()) return exit_;
  v1::CardAuditRequest req;
  req.set_bank_id(c_.bank_code.empty() ? 0 : banks[0].bank_id());
  v1::CardAuditReply rep;
  if (!Call("CardAudit", [&](auto* cc) { return cards_->CardAudit(cc, req, &rep); })) return exit_;

  std::vector<std::string> faults;
  std::vector<std::string> findings;
  Table t({"BANK", "CURRENCY", "CARD_FLOAT", "SHADOW_TOTAL", "PENDING_LOADS", "CARD_LOSSES",
           "SUSPENSE", "VERDICT"},
          {false, false, true, true, true, true, true, false});
  for (const auto& r : rep.currencies()) {
    const int64_t scale = ScaleOf(r.currency_id());
    auto money = [&](int64_t minor) { return FormatAmount(minor, scale, ""); };
    t.AddRow({BankCode(r.bank_id()), r.currency_code(), money(r.card_float_minor()),
              money(r.shadow_total_minor()), money(r.pending_loads_minor()),
              money(r.card_losses_minor()), money(r.suspense_minor()),
              r.consistent() ? "CONSISTENT" : "INCONSISTENT"});
    if (!r.consistent()) {
      faults.push_back(BankCode(r.bank_id()) + " " + r.currency_code() + ": CARD_FLOAT " +
                       money(r.card_float_minor()) + " is not shadow balances " +
                       money(r.shadow_total_minor()) + " + pending loads " +
                       money(r.pending_loads_minor()));
    }
  }
  if (!rep.ok() && faults.empty()) faults.push_back("the server reports the card float not ok");

  Table blocked({"CARD_ID", "BANK", "ACCOUNT", "REASON", "DETAIL", "EVIDENCE", "FIRST_BYTES"},
                {false, false, true, false, false, true, false});
  for (const auto& c : rep.blocked_cards()) {
    const std::string reason = BlockReasonName(c.block_reason());
    blocked.AddRow({Hex(c.card_id()), BankCode(c.bank_id()), std::to_string(c.account_id()), reason,
                    c.block_detail().empty() ? "-" : c.block_detail(),
                    std::to_string(c.evidence_size()), EvidenceText(c)});
    if (c.block_reason() != v1::CARD_BLOCK_REASON_MANUAL) {
      findings.push_back("card " + Hex(c.card_id()) + " blocked, " + reason + " (" +
                         std::to_string(c.evidence_size()) + " evidence records)");
    }
  }
  Table kiosks({"KIOSK", "TERMINAL_ID", "LABEL", "RECEIPTS", "MAX_SEQUENCE", "MISSING"},
               {true, false, false, true, true, true});
  for (const auto& k : rep.kiosks_with_gaps()) {
    kiosks.AddRow({std::to_string(k.kiosk_id()), Hex(k.terminal_id()), k.label(),
                   std::to_string(k.receipts()), std::to_string(k.max_sequence()),
                   std::to_string(k.missing())});
    findings.push_back("kiosk " + std::to_string(k.kiosk_id()) + " (" + k.label() +
                       "): " + std::to_string(k.missing()) + " receipts missing up to sequence " +
                       std::to_string(k.max_sequence()));
  }
  Table gaps({"CARD_ID", "ACCOUNT", "LAST_COUNTER", "RECORDS", "MISSING"},
             {false, true, true, true, true});
  for (const auto& c : rep.cards_with_gaps()) {
    gaps.AddRow({Hex(c.card_id()), std::to_string(c.account_id()), std::to_string(c.max_counter()),
                 std::to_string(c.records()), std::to_string(c.missing_counters())});
    findings.push_back("card " + Hex(c.card_id()) + ": " + std::to_string(c.missing_counters()) +
                       " counters not uploaded up to " + std::to_string(c.max_counter()));
  }

  exit_ = faults.empty() ? kExitOk : kExitAuditFault;
  if (json_) {
    std::vector<std::string> fj, nj;
    for (const auto& f : faults) fj.push_back(JsonQuote(f));
    for (const auto& f : findings) nj.push_back(JsonQuote(f));
    JsonObject o;
    o.Add("command", c_.name)
        .Add("ok", faults.empty())
        .AddRaw("faults", JsonArray(fj))
        .AddRaw("findings", JsonArray(nj))
        .Add("exit_code", int64_t{exit_})
        .AddRaw("reply", ToJson(rep));
    Out() << o.str() << '\n';
    return exit_;
  }
  if (csv_) {
    Out() << t.RenderCsv();
  } else {
    Out() << "card audit after batch " << rep.journal_sequence() << ": " << rep.cards()
          << " cards, " << rep.kiosks() << " kiosks\n\n"
          << t.RenderText();
    auto section = [&](const char* title, const Table& s) {
      Out() << '\n' << title << ": " << s.rows() << '\n';
      if (s.rows() > 0) Out() << s.RenderText();
    };
    section("blocked cards", blocked);
    section("kiosks with gaps", kiosks);
    section("cards with missing counters", gaps);
    Out() << "\nverdict: "
          << (faults.empty() ? "card float CONSISTENT in every currency" : "FAULTS FOUND");
    if (!findings.empty()) Out() << "; " << findings.size() << " findings (stderr)";
    Out() << '\n';
  }
  for (const auto& f : faults) Err() << "FAULT: " << f << '\n';
  for (const auto& f : findings) Err() << "FINDING: " << f << '\n';
  return exit_;
}

int CardRunner::Run() {
  switch (c_.verb) {
    case Verb::kKioskRegister:
      return KioskRegister();
    case Verb::kCardBlock:
      return Block();
    case Verb::kCardShow:
      return Show();
    case Verb::kCardDenyList:
      return DenyList();
    case Verb::kAuditCards:
      return Audit();
    default:
      return Fail(kExitUsage, "not a card or kiosk command");
  }
}

}  // namespace

int RunCardCommand(const Command& command, RunContext& ctx) {
  CardRunner r(command, ctx);
  return r.Run();
}

}  // namespace ayni::cli
