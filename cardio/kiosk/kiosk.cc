#include "cardio/kiosk/kiosk.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "cardio/host.h"
#include "clearing/amount_text.h"
#include "clearing/card/kiosk_batch.h"
#include "clearing/card/load_request.h"
#include "clearing/card/load_token.h"
#include "clearing/check.h"
#include "clearing/hash.h"

namespace ayni::cardio::kiosk {

namespace {

Outcome Refused(std::string message) {
  Outcome o;
  o.refused = true;
  o.message = std::move(message);
  return o;
}

// A card refusal in words a merchant can act on.
std::string CardRefusal(const char* command, Sw sw) {
  std::string why;
  switch (sw) {
    case Sw::kInsufficientBalance:
      why = "insufficient balance on the card";
      break;
    case Sw::kLimitExceeded:
      why = "above the card's limit";
      break;
    case Sw::kGoOnlineAmount:
    case Sw::kGoOnlineCount:
      why = "the card must go online: load it (even 0) to renew its offline allowance";
      break;
    case Sw::kGoOnlineExpired:
      why = "the card has expired";
      break;
    default:
      why = "the card refused " + std::string(command);
      break;
  }
  return why + " (" + SwName(sw) + ")";
}

template <typename T>
ayni::Status TransportOf(const Result<CardReply<T>>& r, const char* command) {
  return ayni::Status(r.status().code(), std::string(command) + ": " + r.status().message());
}

std::string Hex(std::span<const uint8_t> b) { return HexOf(b); }

template <size_t N>
std::array<uint8_t, N> RandomNonZero(RandomSource& random) {
  std::array<uint8_t, N> b{};
  do {
    random.Fill(b);
  } while (std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; }));
  return b;
}

}  // namespace

std::string KeyPath(const std::string& dir) { return dir + "/kiosk.key"; }
std::string ConfigPath(const std::string& dir) { return dir + "/kiosk.conf"; }
std::string StatePath(const std::string& dir) { return dir + "/state"; }
std::string ReceiptsPath(const std::string& dir) { return dir + "/receipts.log"; }

Result<KeyPair> CreateKioskKey(const std::string& dir, RandomSource& random) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus("cannot create the kiosk directory", dir);
  }
  if (::chmod(dir.c_str(), 0700) != 0) return ErrnoStatus("cannot chmod 0700", dir);
  Result<std::optional<Bytes>> existing = ReadWholeFile(KeyPath(dir), 1024);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return ayni::Status::FailedPrecondition(KeyPath(dir) +
                                            " exists: this kiosk already has a key (never "
                                            "overwritten; the bank registered it)");
  }
  KeySeed seed{};
  random.Fill(seed);
  if (ayni::Status st = WriteFileAtomically(KeyPath(dir), seed, 0600); !st.ok()) return st;
  return KeyPairFromSeed(seed);
}

Result<KeyPair> ReadKioskKey(const std::string& dir) {
  Result<std::optional<Bytes>> bytes = ReadWholeFile(KeyPath(dir), 1024);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) {
    return ayni::Status::FailedPrecondition("no kiosk key in " + dir +
                                            ": run `ayni-kiosk init` first");
  }
  if ((*bytes)->size() != 32) {
    return ayni::Status::DataLoss(KeyPath(dir) + " is not a 32-byte Ed25519 seed");
  }
  KeySeed seed{};
  std::copy((*bytes)->begin(), (*bytes)->end(), seed.begin());
  return KeyPairFromSeed(seed);
}

Result<std::unique_ptr<Kiosk>> Kiosk::Open(const std::string& dir, const KioskIdentity& identity,
                                           const KeyPair& key, RandomSource& random) {
  if (identity.terminal_id.zero()) {
    return ayni::Status::InvalidArgument("the kiosk has no terminal id (kiosk.conf terminal_id)");
  }
  Result<FileLock> lock = FileLock::Acquire(dir + "/lock", "another ayni-kiosk is using " + dir);
  if (!lock.ok()) return lock.status();
  Result<KioskState> state = LoadKioskState(StatePath(dir));
  if (!state.ok()) return state.status();
  std::vector<std::string> warnings;
  Result<ReceiptLog> log = ReceiptLog::Open(ReceiptsPath(dir), &warnings);
  if (!log.ok()) return log.status();
  return std::unique_ptr<Kiosk>(new Kiosk(dir, identity, key, random, std::move(lock).value(),
                                          std::move(state).value(), std::move(log).value(),
                                          std::move(warnings)));
}

Kiosk::Kiosk(std::string dir, KioskIdentity identity, KeyPair key, RandomSource& random,
             FileLock lock, KioskState state, ReceiptLog log, std::vector<std::string> warnings)
    : dir_(std::move(dir)),
      identity_(identity),
      key_(key),
      random_(random),
      lock_(std::move(lock)),
      state_(std::move(state)),
      log_(std::move(log)),
      warnings_(std::move(warnings)) {}

ayni::Status Kiosk::Save() { return SaveKioskState(StatePath(dir_), state_); }

ayni::Status Kiosk::AddPending(const PendingOperation& p) {
  if (state_.pending.size() >= kPendingMax) {
    return ayni::Status::FailedPrecondition(
        "too many card operations with an unknown outcome: present those cards to "
        "`ayni-kiosk recover` first");
  }
  state_.pending.push_back(p);
  return Save();
}

ayni::Status Kiosk::DropPending(const PendingOperation& p) {
  auto it = std::find(state_.pending.begin(), state_.pending.end(), p);
  if (it == state_.pending.end()) return ayni::Status::Ok();
  state_.pending.erase(it);
  return Save();
}

std::string Kiosk::Money(Amount a) const {
  return cli::FormatAmount(a.minor(), identity_.scale, "");
}

Result<std::optional<CardData>> Kiosk::ReadCard(PurseClient& card, Outcome* refused) {
  auto sel = card.Select();
  if (!sel.ok()) return TransportOf(sel, "SELECT");
  if (!sel->ok()) {
    *refused = Refused("not an Ayni purse card (" + SwName(sel->sw) + ")");
    return std::optional<CardData>();
  }
  auto data = card.GetCardData();
  if (!data.ok()) return TransportOf(data, "GET CARD DATA");
  if (!data->ok() || data->value->lifecycle != Lifecycle::kIssued) {
    *refused = Refused("the card is not issued yet");
    return std::optional<CardData>();
  }
  return std::optional<CardData>(*data->value);
}

std::optional<PublicKey> Kiosk::BankKeyFor(const SignedCertificate& cert) const {
  for (const BankKeyEntry& b : state_.bank_keys) {
    if (VerifyCertificate(cert, b.public_key).ok()) return b.public_key;
  }
  return std::nullopt;
}

ayni::Status Kiosk::CheckCardTrust(const CardData& card, uint64_t now_s) const {
  const std::optional<PublicKey> bank = BankKeyFor(*card.certificate);
  if (!bank) {
    return ayni::Status::FailedPrecondition(
        "the card's certificate is not signed by any bank this kiosk knows (sync to fetch "
        "the banks' keys)");
  }
  if (ayni::Status st = VerifyCardData(card, *bank, now_s); !st.ok()) {
    return ayni::Status::FailedPrecondition("card refused: " + st.message());
  }
  if (std::find(state_.blocked_cards.begin(), state_.blocked_cards.end(), card.card_id) !=
      state_.blocked_cards.end()) {
    return ayni::Status::FailedPrecondition("card " + card.card_id.ToHex() +
                                            " is on the deny-list (blocked by the bank)");
  }
  return ayni::Status::Ok();
}

ayni::Status Kiosk::ResolvePending(PurseClient& card, const CardData& data, uint64_t now_s,
                                   Outcome* out) {
  std::vector<PendingOperation> mine;
  for (const PendingOperation& p : state_.pending) {
    if (p.card_id == data.card_id) mine.push_back(p);
  }
  if (mine.empty()) return ayni::Status::Ok();
  auto last = card.GetLastRecord();
  if (!last.ok()) return TransportOf(last, "GET LAST RECORD");
  for (const PendingOperation& p : mine) {
    const char* what = p.type == RecordType::kDebit ? "payment" : "load";
    const std::string label = std::string(what) + " of " + Money(p.amount);
    if (last->ok() && RecordAnswers(last->value->record, p)) {
      if (ayni::Status st =
              CheckRecordAgainstCertificate(*last->value, data.certificate->certificate);
          !st.ok()) {
        out->notes.push_back("the card's record for the interrupted " + label +
                             " does not verify (" + st.message() + "): NOT accepted");
      } else {
        Result<bool> added = log_.Add(*last->value, now_s);
        if (!added.ok()) return added.status();
        out->notes.push_back("recovered: the interrupted " + label +
                             " went through (card counter " + std::to_string(p.expected_counter) +
                             "); receipt stored");
      }
    } else if (!last->ok() || last->value->record.counter < p.expected_counter ||
               last->value->record.counter == p.expected_counter) {
      out->notes.push_back("recovered: the interrupted " + label +
                           " did not go through on the card");
    } else {
      out->notes.push_back("the interrupted " + label +
                           " cannot be told any more: the card has made records since; its "
                           "record reaches the bank through the card's later records");
    }
    if (ayni::Status st = DropPending(p); !st.ok()) return st;
  }
  return ayni::Status::Ok();
}

Result<Outcome> Kiosk::Pay(PurseClient& card, Amount amount, uint64_t now_s) {
  if (!amount.positive()) return ayni::Status::InvalidArgument("the amount must be positive");
  if (ayni::Status st = CheckOfflinePolicy(identity_.policy, state_.deny_list_fetched_s,
                                           log_.OldestUnsentTime(), now_s);
      !st.ok()) {
    return Refused(st.message());
  }
  Outcome out;
  Result<std::optional<CardData>> data = ReadCard(card, &out);
  if (!data.ok()) return data.status();
  if (!*data) return out;
  const CardData& cd = **data;
  if (ayni::Status st = ResolvePending(card, cd, now_s, &out); !st.ok()) return st;
  if (ayni::Status st = CheckCardTrust(cd, now_s); !st.ok()) {
    out.refused = true;
    out.message = st.message();
    return out;
  }
  const Certificate& cert = cd.certificate->certificate;
  auto balance = card.GetBalance();
  if (!balance.ok()) return TransportOf(balance, "GET BALANCE");
  if (!balance->ok()) {
    out.refused = true;
    out.message = CardRefusal("GET BALANCE", balance->sw);
    return out;
  }
  const BalanceAnswer& b = *balance->value;
  // The card enforces its caps; the kiosk checks them against the certificate too, so a
  // card whose caps were tampered with is caught before it signs.
  const std::optional<Amount> offline_after = b.offline_amount.CheckedAdd(amount);
  if (b.offline_amount_cap > cert.limits.offline_amount_max ||
      b.offline_count_cap > cert.limits.offline_count_max || !offline_after ||
      *offline_after > cert.limits.offline_amount_max ||
      b.offline_count >= cert.limits.offline_count_max) {
    out.refused = true;
    out.message = "the card's offline spending would pass its certificate's caps (" +
                  Money(cert.limits.offline_amount_max) + " in " +
                  std::to_string(cert.limits.offline_count_max) +
                  " payments between loads): the card must go online (load it, even 0)";
    return out;
  }
  if (amount > cert.limits.payment_max) {
    out.refused = true;
    out.message = "above the card's payment limit of " + Money(cert.limits.payment_max);
    return out;
  }
  if (state_.terminal_sequence == UINT32_MAX) {
    return ayni::Status::FailedPrecondition("this terminal's sequence is exhausted");
  }
  PurchaseRequest p;
  p.terminal_id = identity_.terminal_id;
  p.terminal_sequence = state_.terminal_sequence + 1;
  p.terminal_time_s = now_s;
  random_.Fill(p.nonce);
  p.amount = amount;
  auto quote = card.InitializePurchase(p);
  if (!quote.ok()) return TransportOf(quote, "INITIALIZE PURCHASE");
  if (!quote->ok()) {
    out.refused = true;
    out.message = CardRefusal("INITIALIZE PURCHASE", quote->sw);
    return out;
  }
  // From here the card may sign: the sequence is used up and the purchase is pending
  // until its record is stored (or proved not made).
  state_.terminal_sequence = p.terminal_sequence;
  const PendingOperation pending{
      RecordType::kDebit, cd.card_id,          quote->value->counter + 1, p.nonce,
      p.amount,           p.terminal_sequence, p.terminal_time_s,         now_s};
  if (ayni::Status st = AddPending(pending); !st.ok()) return st;
  auto debit = card.Debit();
  if (!debit.ok()) {
    return ayni::Status::Unavailable(
        "DEBIT: " + debit.status().message() +
        ": the payment's outcome is unknown (NOT paid yet); present the same card again "
        "(ayni-kiosk recover, or the next pay) to settle it");
  }
  if (!debit->ok()) {
    if (ayni::Status st = DropPending(pending); !st.ok()) return st;
    out.refused = true;
    out.message = CardRefusal("DEBIT", debit->sw);
    return out;
  }
  const SignedRecord& record = *debit->value;
  ayni::Status verified = CheckRecordAgainstCertificate(record, cert);
  if (verified.ok()) verified = CheckDebitMatches(record, p, *quote->value);
  if (!verified.ok()) {
    // A record the bank would not settle: the sale is not made, whatever the card did.
    if (ayni::Status st = DropPending(pending); !st.ok()) return st;
    return ayni::Status::DataLoss("the card's debit record does not verify (NOT paid): " +
                                  verified.message());
  }
  Result<bool> added = log_.Add(record, now_s);
  if (!added.ok()) return added.status();
  if (ayni::Status st = DropPending(pending); !st.ok()) return st;
  out.message = "paid " + Money(amount);
  out.fields = {{"amount", Money(amount)},
                {"card", cd.card_id.ToHex()},
                {"card counter", std::to_string(record.record.counter)},
                {"card balance after", Money(record.record.balance_after)},
                {"terminal sequence", std::to_string(p.terminal_sequence)},
                {"receipt", "stored (unsent)"}};
  return out;
}

Result<Outcome> Kiosk::Balance(PurseClient& card, uint64_t now_s) {
  Outcome out;
  Result<std::optional<CardData>> data = ReadCard(card, &out);
  if (!data.ok()) return data.status();
  if (!*data) return out;
  if (ayni::Status st = ResolvePending(card, **data, now_s, &out); !st.ok()) return st;
  auto balance = card.GetBalance();
  if (!balance.ok()) return TransportOf(balance, "GET BALANCE");
  if (!balance->ok()) return Refused(CardRefusal("GET BALANCE", balance->sw));
  const BalanceAnswer& b = *balance->value;
  out.message = "balance " + Money(b.balance);
  out.fields = {{"card", (*data)->card_id.ToHex()},
                {"balance", Money(b.balance)},
                {"counter", std::to_string(b.counter)},
                {"offline spent since load", Money(b.offline_amount) + " in " +
                                                 std::to_string(b.offline_count) + " payment(s)"},
                {"offline caps", Money(b.offline_amount_cap) + " in " +
                                     std::to_string(b.offline_count_cap) + " payment(s)"},
                {"expiry", std::to_string((*data)->certificate->certificate.expiry_s)}};
  return out;
}

Result<Outcome> Kiosk::Recover(PurseClient& card, uint64_t now_s) {
  Outcome out;
  Result<std::optional<CardData>> data = ReadCard(card, &out);
  if (!data.ok()) return data.status();
  if (!*data) return out;
  if (ayni::Status st = ResolvePending(card, **data, now_s, &out); !st.ok()) return st;
  out.message = out.notes.empty() ? "nothing pending for card " + (*data)->card_id.ToHex()
                                  : "recovered card " + (*data)->card_id.ToHex();
  out.fields = {{"still pending (other cards)", std::to_string(state_.pending.size())}};
  return out;
}

Result<Outcome> Kiosk::Load(PurseClient& card, CardServer& server, Amount amount,
                            const LoadOptions& options, uint64_t now_s) {
  if (amount.negative()) return ayni::Status::InvalidArgument("the amount must not be negative");
  Outcome out;
  Result<std::optional<CardData>> data = ReadCard(card, &out);
  if (!data.ok()) return data.status();
  if (!*data) return out;
  const CardData& cd = **data;
  if (ayni::Status st = ResolvePending(card, cd, now_s, &out); !st.ok()) return st;
  // Online anyway: a desk or kiosk that does not know the card's bank yet asks for the
  // banks' keys (and the deny-list) first.
  if (!BankKeyFor(*cd.certificate)) {
    if (ayni::Status st = RefreshDenyList(server, now_s); !st.ok()) return st;
  }
  if (ayni::Status st = CheckCardTrust(cd, now_s); !st.ok()) {
    out.refused = true;
    out.message = st.message();
    return out;
  }
  const Certificate& cert = cd.certificate->certificate;
  const PublicKey bank = *BankKeyFor(*cd.certificate);
  auto challenge = card.InitializeLoad(amount);
  if (!challenge.ok()) return TransportOf(challenge, "INITIALIZE LOAD");
  if (!challenge->ok()) {
    out.refused = true;
    out.message = CardRefusal("INITIALIZE LOAD", challenge->sw);
    return out;
  }
  const LoadChallenge& c = *challenge->value;
  const LoadRequest request{cd.card_id, c.counter, c.challenge, amount};
  if (!VerifyLoadRequestSignature(request, c.signature, cert.card_public_key)) {
    return ayni::Status::DataLoss("the card's load request signature does not verify");
  }
  AuthorizeLoadCall call;
  call.load_id = LoadId(RandomNonZero<16>(random_));
  call.card_id = cd.card_id;
  call.amount = amount;
  call.counter = c.counter;
  call.challenge = c.challenge;
  call.card_signature = c.signature;
  call.offline_amount_cap = options.offline_amount_cap;
  call.offline_count_cap = options.offline_count_cap;
  Result<AuthorizeLoadAnswer> answer = server.AuthorizeLoad(call);
  if (!answer.ok()) return answer.status();
  if (!answer->refusal.empty()) {
    out.refused = true;
    out.message = "the bank refused the load: " + answer->refusal;
    return out;
  }
  Result<SignedLoadToken> token = ParseSignedLoadToken(answer->load_token);
  if (!token.ok()) return ayni::Status::DataLoss("AuthorizeLoad: " + token.status().message());
  const LoadToken& t = token->token;
  if (!VerifyLoadTokenSignature(*token, bank) || t.card_id != cd.card_id ||
      t.counter != c.counter || t.challenge != c.challenge || t.amount != amount ||
      t.load_id != call.load_id) {
    return ayni::Status::DataLoss(
        "AuthorizeLoad: the token is not the card's bank's for this request");
  }
  const PendingOperation pending{
      RecordType::kLoad, cd.card_id, c.counter + 1, c.challenge, amount, 0, 0, now_s};
  if (ayni::Status st = AddPending(pending); !st.ok()) return st;
  auto credit = card.CreditLoad(*token);
  if (!credit.ok()) {
    return ayni::Status::Unavailable(
        "CREDIT LOAD: " + credit.status().message() +
        ": the load's outcome on the card is unknown; present the same card again "
        "(ayni-kiosk recover). A load the card did not apply goes back to the member");
  }
  if (!credit->ok()) {
    if (ayni::Status st = DropPending(pending); !st.ok()) return st;
    out.refused = true;
    out.message = CardRefusal("CREDIT LOAD", credit->sw) +
                  "; the authorised load goes back to the member when the bank learns it";
    return out;
  }
  const SignedRecord& record = *credit->value;
  if (ayni::Status st = CheckRecordAgainstCertificate(record, cert); !st.ok()) {
    return ayni::Status::DataLoss("the card's load record does not verify: " + st.message());
  }
  if (!RecordAnswers(record.record, pending) || record.record.last_load_id != t.load_id) {
    return ayni::Status::DataLoss("the card's load record does not match the load");
  }
  Result<bool> added = log_.Add(record, now_s);
  if (!added.ok()) return added.status();
  if (ayni::Status st = DropPending(pending); !st.ok()) return st;
  out.message = "loaded " + Money(amount);
  out.fields = {{"amount", Money(amount)},
                {"card", cd.card_id.ToHex()},
                {"load id", t.load_id.ToHex()},
                {"card balance after", Money(record.record.balance_after)},
                {"offline caps", Money(t.offline_amount_cap) + " in " +
                                     std::to_string(t.offline_count_cap) + " payment(s)"},
                {"receipt", "stored (unsent)"}};
  return out;
}

ayni::Status Kiosk::RefreshDenyList(CardServer& server, uint64_t now_s) {
  Result<DenyList> deny = server.GetDenyList();
  if (!deny.ok()) return deny.status();
  if (deny->blocked_cards.size() > kDenyListMax || deny->bank_keys.size() > kBankKeysMax) {
    return ayni::Status::DataLoss("GetDenyList: larger than this kiosk keeps");
  }
  DenyList& d = deny.value();
  state_.blocked_cards = std::move(d.blocked_cards);
  state_.bank_keys = std::move(d.bank_keys);
  state_.deny_list_server_ns = d.server_ns;
  state_.deny_list_fetched_s = now_s;
  return Save();
}

Result<Outcome> Kiosk::Sync(CardServer& server, uint64_t now_s) {
  Outcome out;
  const std::vector<const Receipt*> unsent = log_.Unsent();
  uint32_t batches = 0, settled = 0, loads = 0, duplicates = 0, rejected = 0, unanswered = 0;
  for (size_t begin = 0; begin < unsent.size(); begin += kBatchRecordsMax) {
    const size_t end = std::min(unsent.size(), begin + kBatchRecordsMax);
    if (state_.batch_sequence == UINT32_MAX) {
      return ayni::Status::FailedPrecondition("this kiosk's batch sequence is exhausted");
    }
    BatchCall call;
    call.terminal_id = identity_.terminal_id;
    call.batch_sequence = state_.batch_sequence + 1;
    for (size_t i = begin; i < end; ++i) call.records.push_back(unsent[i]->bytes);
    call.kiosk_signature =
        SignKioskBatch(call.terminal_id, call.batch_sequence, call.records, key_);
    // The sequence is used up before the batch leaves, so no two batches share one.
    state_.batch_sequence = call.batch_sequence;
    if (ayni::Status st = Save(); !st.ok()) return st;
    Result<BatchAnswer> answer = server.SubmitOfflineBatch(call);
    if (!answer.ok()) {
      return ayni::Status(answer.status().code(),
                          answer.status().message() + " (after " + std::to_string(batches) +
                              " batch(es) uploaded; the rest stays queued)");
    }
    std::vector<ReceiptMark> marks;
    std::vector<bool> seen(call.records.size(), false);
    for (const BatchResult& r : answer->results) {
      if (r.index >= call.records.size() || seen[r.index]) {
        return ayni::Status::DataLoss("SubmitOfflineBatch: a result names no record of the batch");
      }
      seen[r.index] = true;
      ReceiptMark m{call.records[r.index], ReceiptState::kSent, 0, call.batch_sequence};
      switch (r.verdict) {
        case ReceiptVerdict::kSettled:
          ++settled;
          break;
        case ReceiptVerdict::kLoadConfirmed:
          ++loads;
          break;
        case ReceiptVerdict::kDuplicate:
          ++duplicates;
          break;
        case ReceiptVerdict::kRejected: {
          ++rejected;
          m.state = ReceiptState::kRejected;
          m.reject = r.reject;
          const OfflineRecord& rec = unsent[begin + r.index]->record.record;
          out.notes.push_back("rejected by the bank: card " + rec.card_id.ToHex() + " counter " +
                              std::to_string(rec.counter) + " (" + ReceiptRejectName(r.reject) +
                              ")");
          break;
        }
        case ReceiptVerdict::kUnspecified:
          continue;  // no verdict: stays queued
      }
      marks.push_back(std::move(m));
    }
    unanswered += static_cast<uint32_t>(call.records.size() - marks.size());
    if (ayni::Status st = log_.Mark(marks, now_s); !st.ok()) return st;
    ++batches;
  }
  if (ayni::Status st = RefreshDenyList(server, now_s); !st.ok()) {
    return ayni::Status(st.code(), st.message() + " (receipts uploaded: " +
                                       std::to_string(settled + loads + duplicates + rejected) +
                                       ")");
  }
  out.message = "synced: " + std::to_string(unsent.size() - unanswered) + " receipt(s) uploaded";
  out.fields = {{"batches", std::to_string(batches)},
                {"settled", std::to_string(settled)},
                {"loads confirmed", std::to_string(loads)},
                {"duplicates", std::to_string(duplicates)},
                {"rejected", std::to_string(rejected)},
                {"still queued", std::to_string(log_.Unsent().size())},
                {"deny-list", std::to_string(state_.blocked_cards.size()) + " card(s)"},
                {"bank keys", std::to_string(state_.bank_keys.size())}};
  return out;
}

Result<Outcome> Kiosk::Issue(PurseClient& card, CardServer& server, const IssueTerms& terms) {
  // The terms the certificate will carry, checked before the card is touched.
  if (terms.account_id == 0) return ayni::Status::InvalidArgument("the account is 0");
  if (terms.card_id && terms.card_id->zero()) {
    return ayni::Status::InvalidArgument("the card id is zero");
  }
  if (!terms.limits.payment_max.positive() || !terms.limits.balance_max.positive() ||
      terms.limits.offline_amount_max.negative()) {
    return ayni::Status::InvalidArgument(
        "the payment max and balance max must be positive, the offline max not negative");
  }
  if (terms.expiry_s == 0) return ayni::Status::InvalidArgument("the expiry is 0");
  Outcome out;
  auto sel = card.Select();
  if (!sel.ok()) return TransportOf(sel, "SELECT");
  if (!sel->ok()) return Refused("not an Ayni purse card (" + SwName(sel->sw) + ")");
  if (sel->value->lifecycle == Lifecycle::kIssued) {
    return Refused("the card is already issued (personalisation is locked)");
  }
  const CardId card_id = terms.card_id.value_or(CardId(RandomNonZero<16>(random_)));
  auto key = card.GenerateKey(card_id);
  if (!key.ok()) return TransportOf(key, "GENERATE KEY");
  if (!key->ok()) return Refused(CardRefusal("GENERATE KEY", key->sw));
  RegisterCardCall call;
  call.request_id = RandomNonZero<16>(random_);
  call.card_id = card_id;
  call.public_key = *key->value;
  call.account_id = terms.account_id;
  call.limits = terms.limits;
  call.expiry_s = terms.expiry_s;
  Result<RegisterCardAnswer> answer = server.RegisterCard(call);
  if (!answer.ok()) return answer.status();
  if (!answer->refusal.empty()) return Refused("the bank refused the card: " + answer->refusal);
  Result<SignedCertificate> cert = ParseSignedCertificate(answer->certificate);
  if (!cert.ok()) return ayni::Status::DataLoss("RegisterCard: " + cert.status().message());
  if (answer->bank_public_key.size() != 32) {
    return ayni::Status::DataLoss("RegisterCard: the bank key is not 32 bytes");
  }
  PublicKey bank{};
  std::copy(answer->bank_public_key.begin(), answer->bank_public_key.end(), bank.begin());
  if (!VerifyCertificate(*cert, bank).ok() || cert->certificate.card_id != card_id ||
      cert->certificate.card_public_key != *key->value) {
    return ayni::Status::DataLoss("RegisterCard: the certificate is not for this card and key");
  }
  auto put_bank = card.PutBankKey(bank);
  if (!put_bank.ok()) return TransportOf(put_bank, "PUT BANK KEY");
  if (!put_bank->ok()) return Refused(CardRefusal("PUT BANK KEY", put_bank->sw));
  auto put_cert = card.PutCertificate(*cert);
  if (!put_cert.ok()) return TransportOf(put_cert, "PUT CERTIFICATE");
  if (!put_cert->ok()) return Refused(CardRefusal("PUT CERTIFICATE", put_cert->sw));
  out.message = "issued card " + card_id.ToHex();
  out.fields = {{"card", card_id.ToHex()},
                {"public key", Hex(*key->value)},
                {"account", std::to_string(terms.account_id)},
                {"expiry", std::to_string(terms.expiry_s)},
                {"bank key", Hex(bank)}};
  return out;
}

Outcome Kiosk::Report(uint64_t now_s) const {
  Outcome out;
  const std::optional<uint64_t> oldest = log_.OldestUnsentTime();
  const ayni::Status verdict =
      CheckOfflinePolicy(identity_.policy, state_.deny_list_fetched_s, oldest, now_s);
  auto age = [&](uint64_t then) { return FormatDuration(now_s > then ? now_s - then : 0); };
  out.message = verdict.ok() ? "offline sales allowed" : verdict.message();
  out.refused = !verdict.ok();
  out.fields = {{"terminal id", identity_.terminal_id.ToHex()},
                {"kiosk id", std::to_string(identity_.kiosk_id)},
                {"merchant account", std::to_string(identity_.merchant_account)},
                {"public key", Hex(key_.public_key)},
                {"terminal sequence", std::to_string(state_.terminal_sequence)},
                {"batch sequence", std::to_string(state_.batch_sequence)},
                {"receipts", std::to_string(log_.receipts().size())},
                {"receipts unsent", std::to_string(log_.Unsent().size())},
                {"oldest unsent age", oldest ? age(*oldest) : "-"},
                {"deny-list age",
                 state_.deny_list_fetched_s ? age(state_.deny_list_fetched_s) : "never synced"},
                {"deny-list size", std::to_string(state_.blocked_cards.size())},
                {"bank keys", std::to_string(state_.bank_keys.size())},
                {"pending card operations", std::to_string(state_.pending.size())},
                {"policy", "deny-list ≤ " + FormatDuration(identity_.policy.max_deny_list_age_s) +
                               ", unsent ≤ " + FormatDuration(identity_.policy.max_unsent_age_s)},
                {"verdict", out.message}};
  for (const PendingOperation& p : state_.pending) {
    out.notes.push_back(std::string("pending ") +
                        (p.type == RecordType::kDebit ? "payment" : "load") + " of " +
                        Money(p.amount) + " on card " + p.card_id.ToHex() +
                        ": present the card to `ayni-kiosk recover`");
  }
  return out;
}

const char* ReceiptRejectName(uint8_t reject) {
  switch (reject) {
    case 0:
      return "none";
    case 1:
      return "unknown card";
    case 2:
      return "wrong terminal";
    case 3:
      return "certificate expired";
    case 4:
      return "bad signature";
    case 5:
      return "malformed";
    default:
      return "unknown reason";
  }
}

}  // namespace ayni::cardio::kiosk
