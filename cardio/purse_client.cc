#include "cardio/purse_client.h"

#include <string>
#include <utility>

namespace ayni::cardio {

namespace {

CommandApdu Command(uint8_t ins, Bytes data, std::optional<uint16_t> le) {
  return {kClaProprietary, ins, 0, 0, std::move(data), le};
}

// Decodes a 9000 answer with `decode`, passing any other SW through.
template <typename T, typename DecodeFn>
Result<CardReply<T>> Decode(Result<ResponseApdu> r, const char* what, DecodeFn decode) {
  if (!r.ok()) return r.status();
  CardReply<T> reply;
  reply.sw = r->sw;
  if (reply.sw != Sw::kOk) return reply;
  Result<T> value = decode(r->data);
  if (!value.ok()) {
    return Status::DataLoss(std::string("card answered ") + what +
                            " with malformed data: " + value.status().message());
  }
  reply.value = std::move(value).value();
  return reply;
}

Result<SignedRecord> DecodeRecord(std::span<const uint8_t> d) { return ParseSignedRecord(d); }
Result<Empty> DecodeEmpty(std::span<const uint8_t> d) {
  if (!d.empty()) return Status::InvalidArgument(std::to_string(d.size()) + " bytes, expected 0");
  return Empty{};
}

}  // namespace

Status CheckDebitMatches(const SignedRecord& s, const PurchaseRequest& p, const PurchaseQuote& q) {
  const OfflineRecord& r = s.record;
  if (r.type != RecordType::kDebit) return Status::InvalidArgument("record is not a debit");
  if (r.terminal_id != p.terminal_id || r.terminal_sequence != p.terminal_sequence ||
      r.terminal_nonce != p.nonce || r.terminal_time_s != p.terminal_time_s) {
    return Status::InvalidArgument("record answers another purchase (terminal fields differ)");
  }
  if (r.amount != p.amount) return Status::InvalidArgument("record amount differs");
  if (r.counter != q.counter + 1) {
    return Status::InvalidArgument("record counter " + std::to_string(r.counter) +
                                   " is not the quoted counter + 1");
  }
  if (q.balance.CheckedSub(p.amount) != r.balance_after) {
    return Status::InvalidArgument("record balance after is not the quoted balance - amount");
  }
  return Status::Ok();
}

Result<ResponseApdu> PurseClient::Exchange(const CommandApdu& command) {
  Result<Bytes> raw = channel_.Transmit(EncodeCommandApdu(command));
  if (!raw.ok()) return raw.status();
  return ParseResponseApdu(*raw);
}

Result<CardReply<SelectAnswer>> PurseClient::Select() {
  const CommandApdu c{kClaIso, kInsSelect, 0x04, 0x00, Bytes(kAid.begin(), kAid.end()), 256};
  return Decode<SelectAnswer>(Exchange(c), "SELECT", DecodeSelectAnswer);
}

Result<CardReply<CardData>> PurseClient::GetCardData() {
  return Decode<CardData>(Exchange(Command(kInsGetCardData, {}, 256)), "GET CARD DATA",
                          DecodeCardData);
}

Result<CardReply<BalanceAnswer>> PurseClient::GetBalance() {
  return Decode<BalanceAnswer>(Exchange(Command(kInsGetBalance, {}, 256)), "GET BALANCE",
                               DecodeBalanceAnswer);
}

Result<CardReply<PurchaseQuote>> PurseClient::InitializePurchase(const PurchaseRequest& p) {
  return Decode<PurchaseQuote>(
      Exchange(Command(kInsInitializePurchase, EncodePurchaseRequest(p), 256)),
      "INITIALIZE PURCHASE", DecodePurchaseQuote);
}

Result<CardReply<SignedRecord>> PurseClient::Debit() {
  return Decode<SignedRecord>(Exchange(Command(kInsDebit, {}, 256)), "DEBIT", DecodeRecord);
}

Result<CardReply<SignedRecord>> PurseClient::GetLastRecord() {
  return Decode<SignedRecord>(Exchange(Command(kInsGetLastRecord, {}, 256)), "GET LAST RECORD",
                              DecodeRecord);
}

Result<CardReply<LoadChallenge>> PurseClient::InitializeLoad(Amount amount) {
  return Decode<LoadChallenge>(Exchange(Command(kInsInitializeLoad, EncodeLoadAmount(amount), 256)),
                               "INITIALIZE LOAD", DecodeLoadChallenge);
}

Result<CardReply<SignedRecord>> PurseClient::CreditLoad(const SignedLoadToken& token) {
  return Decode<SignedRecord>(Exchange(Command(kInsCreditLoad, EncodeSignedLoadToken(token), 256)),
                              "CREDIT LOAD", DecodeRecord);
}

Result<CardReply<PublicKey>> PurseClient::GenerateKey(const CardId& card_id) {
  return Decode<PublicKey>(
      Exchange(
          Command(kInsGenerateKey, Bytes(card_id.bytes().begin(), card_id.bytes().end()), 256)),
      "GENERATE KEY", [](std::span<const uint8_t> d) -> Result<PublicKey> {
        if (d.size() != 32) {
          return Status::InvalidArgument(std::to_string(d.size()) + " bytes, expected 32");
        }
        PublicKey k{};
        std::copy(d.begin(), d.end(), k.begin());
        return k;
      });
}

Result<CardReply<Empty>> PurseClient::PutBankKey(const PublicKey& bank) {
  return Decode<Empty>(
      Exchange(Command(kInsPutBankKey, Bytes(bank.begin(), bank.end()), std::nullopt)),
      "PUT BANK KEY", DecodeEmpty);
}

Result<CardReply<Empty>> PurseClient::PutCertificate(const SignedCertificate& certificate) {
  return Decode<Empty>(
      Exchange(Command(kInsPutCertificate, EncodeSignedCertificate(certificate), std::nullopt)),
      "PUT CERTIFICATE", DecodeEmpty);
}

}  // namespace ayni::cardio
