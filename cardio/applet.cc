#include "cardio/applet.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "clearing/check.h"

namespace ayni::cardio {

namespace {

constexpr std::array<uint8_t, 8> kStateMagic = {'A', 'Y', 'N', 'I', 'C', 'A', 'R', 'D'};
constexpr uint16_t kStateFormat = 1;

ResponseApdu Refuse(Sw sw) { return {{}, sw}; }
ResponseApdu Reply(Bytes data) { return {std::move(data), Sw::kOk}; }

// The command's shape: exact Lc (0 = no data) and, when the command returns data, the
// response size that Le must admit (0 = Le must be absent). Le 256 (byte 00) admits all.
std::optional<Sw> CheckShape(const CommandApdu& apdu, size_t lc, size_t response_size) {
  if (apdu.data.size() != lc) return Sw::kWrongLength;
  if (response_size == 0) {
    if (apdu.le) return Sw::kWrongLength;
    return std::nullopt;
  }
  if (!apdu.le) return Sw::kWrongLength;
  if (*apdu.le < response_size) return WrongLe(static_cast<uint8_t>(response_size));
  return std::nullopt;
}

}  // namespace

// ---- State file ------------------------------------------------------------------------

Bytes SerializeCardState(const CardState& s) {
  ByteWriter w;
  w.Raw(kStateMagic);
  w.U16(kStateFormat);
  w.U8(static_cast<uint8_t>(s.lifecycle));
  w.Raw(s.card_id.bytes());
  w.Raw(s.key_seed);
  w.U8(s.bank_public_key ? 1 : 0);
  w.Raw(s.bank_public_key.value_or(PublicKey{}));
  w.U8(s.certificate ? 1 : 0);
  w.Raw(s.certificate ? EncodeSignedCertificate(*s.certificate) : Bytes(kCertificateSize));
  w.I64(s.balance.minor());
  w.U32(s.counter);
  w.Raw(s.last_hash);
  w.Raw(s.last_load_id.bytes());
  w.I64(s.offline_amount.minor());
  w.U32(s.offline_count);
  w.I64(s.offline_amount_cap.minor());
  w.U32(s.offline_count_cap);
  w.U8(s.load_challenge ? 1 : 0);
  w.Raw(s.load_challenge.value_or(Nonce{}));
  w.U8(s.last_record ? 1 : 0);
  w.Raw(s.last_record ? EncodeSignedRecord(*s.last_record) : Bytes(kRecordSize));
  const Sha256Digest sum = Sha256(w.bytes());
  w.Raw(sum);
  return w.Take();
}

Result<CardState> DeserializeCardState(std::span<const uint8_t> bytes) {
  if (bytes.size() < kStateMagic.size() + 32) {
    return Status::DataLoss("card state has " + std::to_string(bytes.size()) + " bytes");
  }
  const auto body = bytes.first(bytes.size() - 32);
  const Sha256Digest sum = Sha256(body);
  if (!std::equal(sum.begin(), sum.end(), bytes.end() - 32)) {
    return Status::DataLoss("card state checksum does not match (torn or altered file)");
  }
  ByteReader in(body);
  if (in.Array<8>() != kStateMagic) return Status::DataLoss("card state magic is wrong");
  if (const uint16_t f = in.U16(); f != kStateFormat) {
    return Status::DataLoss("card state format " + std::to_string(f) + " is unknown");
  }
  CardState s;
  const uint8_t lifecycle = in.U8();
  s.card_id = CardId(in.Array<16>());
  s.key_seed = in.Array<32>();
  const uint8_t has_bank = in.U8();
  const auto bank = in.Array<32>();
  const uint8_t has_cert = in.U8();
  const auto cert_bytes = in.Span(kCertificateSize);
  s.balance = Amount(in.I64());
  s.counter = in.U32();
  s.last_hash = in.Array<32>();
  s.last_load_id = LoadId(in.Array<16>());
  s.offline_amount = Amount(in.I64());
  s.offline_count = in.U32();
  s.offline_amount_cap = Amount(in.I64());
  s.offline_count_cap = in.U32();
  const uint8_t has_challenge = in.U8();
  const auto challenge = in.Array<16>();
  const uint8_t has_record = in.U8();
  const auto record_bytes = in.Span(kRecordSize);
  if (!in.done()) return Status::DataLoss("card state has the wrong size");

  if (lifecycle > static_cast<uint8_t>(Lifecycle::kIssued) || has_bank > 1 || has_cert > 1 ||
      has_challenge > 1 || has_record > 1) {
    return Status::DataLoss("card state has an unknown life cycle or flag value");
  }
  s.lifecycle = static_cast<Lifecycle>(lifecycle);
  if (has_bank) s.bank_public_key = bank;
  if (has_challenge) s.load_challenge = challenge;
  if (has_cert) {
    Result<SignedCertificate> c = ParseSignedCertificate(cert_bytes);
    if (!c.ok()) return Status::DataLoss("card state certificate: " + c.status().message());
    s.certificate = std::move(c).value();
  }
  if (has_record) {
    Result<SignedRecord> r = ParseSignedRecord(record_bytes);
    if (!r.ok()) return Status::DataLoss("card state last record: " + r.status().message());
    s.last_record = std::move(r).value();
  }
  // Consistency: what the applet itself guarantees, so a hand-edited file is refused.
  if (s.balance.negative() || s.offline_amount.negative() || s.offline_amount_cap.negative()) {
    return Status::DataLoss("card state has a negative amount");
  }
  if (s.lifecycle == Lifecycle::kIssued && (!s.certificate || !s.bank_public_key)) {
    return Status::DataLoss("card state is issued without a certificate or bank key");
  }
  if (s.lifecycle != Lifecycle::kIssued && (s.counter != 0 || s.last_record || !s.balance.zero())) {
    return Status::DataLoss("card state holds value or records before issue");
  }
  if (s.certificate &&
      (s.certificate->certificate.card_public_key != KeyPairFromSeed(s.key_seed).public_key ||
       s.certificate->certificate.card_id != s.card_id)) {
    return Status::DataLoss("card state certificate is for another card or key");
  }
  if (s.last_record.has_value() != (s.counter != 0) ||
      (s.last_record && (s.last_record->record.counter != s.counter ||
                         RecordHash(s.last_record->record) != s.last_hash))) {
    return Status::DataLoss("card state last record does not match its counter and hash");
  }
  return s;
}

// ---- Applet ----------------------------------------------------------------------------

PurseApplet::PurseApplet(RandomSource& random, CardState state)
    : random_(random), state_(std::move(state)) {
  if (state_.lifecycle != Lifecycle::kBlank) key_ = KeyPairFromSeed(state_.key_seed);
}

void PurseApplet::Reset() {
  selected_ = false;
  prepared_.reset();
}

Bytes PurseApplet::Process(std::span<const uint8_t> command) {
  // Whatever this command is, a prepared purchase survives only into it.
  std::optional<PurchaseRequest> prepared = std::exchange(prepared_, std::nullopt);
  Result<CommandApdu> apdu = ParseCommandApdu(command);
  const ResponseApdu r =
      apdu.ok() ? Dispatch(*apdu, std::move(prepared)) : Refuse(Sw::kWrongLength);
  return EncodeResponseApdu(r.data, r.sw);
}

ResponseApdu PurseApplet::Dispatch(const CommandApdu& apdu,
                                   std::optional<PurchaseRequest> prepared) {
  if (apdu.cla != kClaIso && apdu.cla != kClaProprietary) return Refuse(Sw::kClaNotSupported);
  if (apdu.ins == kInsSelect) {
    if (apdu.cla != kClaIso) return Refuse(Sw::kClaNotSupported);
    return Select(apdu);
  }
  if (apdu.cla != kClaProprietary) return Refuse(Sw::kClaNotSupported);
  if (!selected_) return Refuse(Sw::kConditionsOfUse);
  // An unknown INS is 6D00 whatever P1-P2 are; a known one needs P1 = P2 = 00.
  auto run = [&](auto handler) {
    return apdu.p1 == 0 && apdu.p2 == 0 ? handler() : Refuse(Sw::kWrongP1P2);
  };
  switch (apdu.ins) {
    case kInsGetCardData:
      return run([&] { return GetCardData(apdu); });
    case kInsGetBalance:
      return run([&] { return GetBalance(apdu); });
    case kInsInitializePurchase:
      return run([&] { return InitializePurchase(apdu); });
    case kInsDebit:
      return run([&] { return Debit(apdu, std::move(prepared)); });
    case kInsGetLastRecord:
      return run([&] { return GetLastRecord(apdu); });
    case kInsInitializeLoad:
      return run([&] { return InitializeLoad(apdu); });
    case kInsCreditLoad:
      return run([&] { return CreditLoad(apdu); });
    case kInsGenerateKey:
      return run([&] { return GenerateKey(apdu); });
    case kInsPutBankKey:
      return run([&] { return PutBankKey(apdu); });
    case kInsPutCertificate:
      return run([&] { return PutCertificate(apdu); });
    default:
      return Refuse(Sw::kInsNotSupported);
  }
}

ResponseApdu PurseApplet::Select(const CommandApdu& apdu) {
  selected_ = false;
  if (apdu.p1 != 0x04 || apdu.p2 != 0x00) return Refuse(Sw::kWrongP1P2);
  if (apdu.data.empty() || !apdu.le) return Refuse(Sw::kWrongLength);
  if (!std::equal(apdu.data.begin(), apdu.data.end(), kAid.begin(), kAid.end())) {
    return Refuse(Sw::kAppletNotFound);
  }
  if (*apdu.le < kSelectResponseSize) return Refuse(WrongLe(kSelectResponseSize));
  selected_ = true;
  return Reply(EncodeSelectAnswer({kProtocolVersion, state_.lifecycle}));
}

ResponseApdu PurseApplet::GetCardData(const CommandApdu& apdu) {
  const bool issued = state_.lifecycle == Lifecycle::kIssued;
  const size_t size = kCardDataHeaderSize + (issued ? kCertificateSize : 0);
  if (auto sw = CheckShape(apdu, 0, size)) return Refuse(*sw);
  if (state_.lifecycle == Lifecycle::kBlank) return Refuse(Sw::kConditionsOfUse);
  return Reply(EncodeCardData({state_.lifecycle, state_.card_id, key_.public_key,
                               issued ? state_.certificate : std::nullopt}));
}

ResponseApdu PurseApplet::GetBalance(const CommandApdu& apdu) {
  if (auto sw = CheckShape(apdu, 0, kBalanceResponseSize)) return Refuse(*sw);
  if (state_.lifecycle != Lifecycle::kIssued) return Refuse(Sw::kConditionsOfUse);
  return Reply(EncodeBalanceAnswer({state_.balance, state_.counter, state_.offline_amount,
                                    state_.offline_count, state_.offline_amount_cap,
                                    state_.offline_count_cap}));
}

Sw PurseApplet::CheckPurchase(const PurchaseRequest& p) const {
  const Certificate& cert = state_.certificate->certificate;
  if (state_.counter == UINT32_MAX) return Sw::kConditionsOfUse;  // the card is worn out
  if (p.terminal_time_s >= cert.expiry_s) return Sw::kGoOnlineExpired;
  if (p.amount > cert.limits.payment_max) return Sw::kLimitExceeded;
  if (p.amount > state_.balance) return Sw::kInsufficientBalance;
  if (state_.offline_count >= state_.offline_count_cap) return Sw::kGoOnlineCount;
  const std::optional<Amount> spent = state_.offline_amount.CheckedAdd(p.amount);
  if (!spent || *spent > state_.offline_amount_cap) return Sw::kGoOnlineAmount;
  return Sw::kOk;
}

ResponseApdu PurseApplet::InitializePurchase(const CommandApdu& apdu) {
  if (auto sw = CheckShape(apdu, kPurchaseRequestSize, kPurchaseResponseSize)) {
    return Refuse(*sw);
  }
  if (state_.lifecycle != Lifecycle::kIssued) return Refuse(Sw::kConditionsOfUse);
  Result<PurchaseRequest> p = DecodePurchaseRequest(apdu.data);
  AYNI_CHECK(p.ok());  // the shape check fixed the size, and every value decodes
  if (p->terminal_id.zero() || !p->amount.positive()) return Refuse(Sw::kBadData);
  if (const Sw sw = CheckPurchase(*p); sw != Sw::kOk) return Refuse(sw);
  prepared_ = *p;
  return Reply(EncodePurchaseQuote({state_.counter, state_.balance}));
}

ResponseApdu PurseApplet::Debit(const CommandApdu& apdu, std::optional<PurchaseRequest> prepared) {
  if (auto sw = CheckShape(apdu, 0, kRecordSize)) return Refuse(*sw);
  if (state_.lifecycle != Lifecycle::kIssued || !prepared) return Refuse(Sw::kConditionsOfUse);
  // Nothing persistent changed since INITIALIZE PURCHASE checked it; checked again anyway
  // because this is the step that moves value.
  if (const Sw sw = CheckPurchase(*prepared); sw != Sw::kOk) return Refuse(sw);
  const PurchaseRequest& p = *prepared;
  CardState next = state_;
  next.balance = *state_.balance.CheckedSub(p.amount);  // p.amount <= balance, both >= 0
  next.offline_amount = *state_.offline_amount.CheckedAdd(p.amount);  // checked above
  next.offline_count = state_.offline_count + 1;
  OfflineRecord r;
  r.type = RecordType::kDebit;
  r.amount = p.amount;
  r.terminal_id = p.terminal_id;
  r.terminal_sequence = p.terminal_sequence;
  r.terminal_nonce = p.nonce;
  r.terminal_time_s = p.terminal_time_s;
  return Reply(EncodeSignedRecord(SignAndCommit(r, std::move(next))));
}

ResponseApdu PurseApplet::GetLastRecord(const CommandApdu& apdu) {
  if (auto sw = CheckShape(apdu, 0, kRecordSize)) return Refuse(*sw);
  if (state_.lifecycle != Lifecycle::kIssued) return Refuse(Sw::kConditionsOfUse);
  if (!state_.last_record) return Refuse(Sw::kRecordNotFound);
  return Reply(EncodeSignedRecord(*state_.last_record));
}

ResponseApdu PurseApplet::InitializeLoad(const CommandApdu& apdu) {
  if (auto sw = CheckShape(apdu, kLoadAmountSize, kLoadChallengeResponseSize)) {
    return Refuse(*sw);
  }
  if (state_.lifecycle != Lifecycle::kIssued || state_.counter == UINT32_MAX) {
    return Refuse(Sw::kConditionsOfUse);
  }
  Result<Amount> amount = DecodeLoadAmount(apdu.data);
  AYNI_CHECK(amount.ok());  // the shape check fixed the size
  if (amount->negative()) return Refuse(Sw::kBadData);
  Nonce challenge{};
  random_.Fill(challenge);
  CardState next = state_;
  next.load_challenge = challenge;
  Commit(std::move(next));
  // The holder's request, signed so that the bank can tell it from a kiosk's wish. The
  // card keeps no amount: the bank binds the token to the signed request.
  const LoadRequest request{state_.card_id, state_.counter, challenge, *amount};
  return Reply(EncodeLoadChallenge({challenge, state_.counter, SignLoadRequest(request, key_)}));
}

ResponseApdu PurseApplet::CreditLoad(const CommandApdu& apdu) {
  if (auto sw = CheckShape(apdu, kLoadTokenSize, kRecordSize)) return Refuse(*sw);
  if (state_.lifecycle != Lifecycle::kIssued || !state_.load_challenge) {
    return Refuse(Sw::kConditionsOfUse);
  }
  Result<SignedLoadToken> parsed = ParseSignedLoadToken(apdu.data);
  if (!parsed.ok()) return Refuse(Sw::kBadData);
  const LoadToken& t = parsed->token;
  // Signed by the bank, and for this card, this counter and the pending challenge: a
  // token from another key, an old challenge or a replay is a security failure.
  if (!VerifyLoadTokenSignature(*parsed, *state_.bank_public_key) || t.card_id != state_.card_id ||
      t.counter != state_.counter || t.challenge != *state_.load_challenge ||
      t.load_id == state_.last_load_id) {
    return Refuse(Sw::kSecurityStatus);
  }
  const CardLimits& limits = state_.certificate->certificate.limits;
  if (t.offline_amount_cap > limits.offline_amount_max ||
      t.offline_count_cap > limits.offline_count_max) {
    return Refuse(Sw::kBadData);
  }
  const std::optional<Amount> balance = state_.balance.CheckedAdd(t.amount);
  if (!balance || *balance > limits.balance_max) return Refuse(Sw::kLimitExceeded);

  CardState next = state_;
  next.balance = *balance;
  next.last_load_id = t.load_id;
  next.offline_amount = Amount::Zero();
  next.offline_count = 0;
  next.offline_amount_cap = t.offline_amount_cap;
  next.offline_count_cap = t.offline_count_cap;
  OfflineRecord r;
  r.type = RecordType::kLoad;
  r.amount = t.amount;
  r.terminal_nonce = t.challenge;
  return Reply(EncodeSignedRecord(SignAndCommit(r, std::move(next))));
}

SignedRecord PurseApplet::SignAndCommit(OfflineRecord r, CardState next) {
  AYNI_CHECK(state_.lifecycle == Lifecycle::kIssued);
  AYNI_CHECK(state_.counter < UINT32_MAX);
  AYNI_CHECK(!state_.last_record || state_.last_record->record.counter == state_.counter);
  r.version = kRecordVersion;
  r.scheme_id = state_.certificate->certificate.scheme_id;
  r.card_id = state_.card_id;
  r.counter = state_.counter + 1;
  r.balance_after = next.balance;
  r.last_load_id = next.last_load_id;
  r.offline_amount = next.offline_amount;
  r.offline_count = next.offline_count;
  r.previous_hash = state_.last_hash;
  AYNI_CHECK(!r.balance_after.negative());
  const Bytes body = EncodeRecordBody(r);
  SignedRecord signed_record{r, SignWithPrefix(key_, kRecordPrefix, body)};
  next.counter = r.counter;
  next.last_hash = Sha256(body);
  next.load_challenge.reset();  // a token is bound to the counter this record consumed
  next.last_record = signed_record;
  Commit(std::move(next));
  return signed_record;
}

void PurseApplet::Commit(CardState next) {
  // The counter only ever moves up, by one per record: the card never signs twice for
  // one counter value.
  AYNI_CHECK(next.counter == state_.counter || next.counter == state_.counter + 1);
  state_ = std::move(next);
  ++state_changes_;
}

ResponseApdu PurseApplet::GenerateKey(const CommandApdu& apdu) {
  if (auto sw = CheckShape(apdu, 16, 32)) return Refuse(*sw);
  if (state_.lifecycle == Lifecycle::kIssued) return Refuse(Sw::kConditionsOfUse);
  CardId::Bytes id_bytes{};
  std::copy(apdu.data.begin(), apdu.data.end(), id_bytes.begin());
  const CardId id(id_bytes);
  if (id.zero()) return Refuse(Sw::kBadData);
  CardState next = state_;
  next.lifecycle = Lifecycle::kPersonalising;
  next.card_id = id;
  random_.Fill(next.key_seed);
  next.certificate.reset();
  key_ = KeyPairFromSeed(next.key_seed);
  Commit(std::move(next));
  return Reply(Bytes(key_.public_key.begin(), key_.public_key.end()));
}

ResponseApdu PurseApplet::PutBankKey(const CommandApdu& apdu) {
  if (auto sw = CheckShape(apdu, 32, 0)) return Refuse(*sw);
  if (state_.lifecycle == Lifecycle::kIssued) return Refuse(Sw::kConditionsOfUse);
  PublicKey key{};
  std::copy(apdu.data.begin(), apdu.data.end(), key.begin());
  CardState next = state_;
  next.bank_public_key = key;
  Commit(std::move(next));
  return Reply({});
}

ResponseApdu PurseApplet::PutCertificate(const CommandApdu& apdu) {
  if (auto sw = CheckShape(apdu, kCertificateSize, 0)) return Refuse(*sw);
  if (state_.lifecycle != Lifecycle::kPersonalising || !state_.bank_public_key) {
    return Refuse(Sw::kConditionsOfUse);
  }
  Result<SignedCertificate> cert = ParseSignedCertificate(apdu.data);
  if (!cert.ok()) return Refuse(Sw::kBadData);
  if (!VerifyCertificate(*cert, *state_.bank_public_key).ok()) {
    return Refuse(Sw::kSecurityStatus);
  }
  if (cert->certificate.card_id != state_.card_id ||
      cert->certificate.card_public_key != key_.public_key) {
    return Refuse(Sw::kBadData);
  }
  CardState next = state_;
  next.certificate = std::move(cert).value();
  next.lifecycle = Lifecycle::kIssued;
  Commit(std::move(next));
  return Reply({});
}

}  // namespace ayni::cardio
