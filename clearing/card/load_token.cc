#include "clearing/card/load_token.h"

#include <string>

#include "clearing/check.h"

namespace ayni::cardio {

Status ValidateLoadToken(const LoadToken& t) {
  if (t.version != kLoadTokenVersion) {
    return Status::InvalidArgument("load token version " + std::to_string(t.version) +
                                   " is unknown (expected 1)");
  }
  if (t.card_id.zero()) return Status::InvalidArgument("load token card id is zero");
  if (t.load_id.zero()) return Status::InvalidArgument("load token load id is zero");
  if (t.amount.negative()) return Status::InvalidArgument("load token amount is negative");
  if (t.offline_amount_cap.negative()) {
    return Status::InvalidArgument("load token offline amount cap is negative");
  }
  return Status::Ok();
}

Bytes EncodeLoadTokenBody(const LoadToken& t) {
  ByteWriter w(kLoadTokenBodySize);
  w.U8(t.version);
  w.Raw(t.card_id.bytes());
  w.U32(t.counter);
  w.Raw(t.challenge);
  w.I64(t.amount.minor());
  w.Raw(t.load_id.bytes());
  w.I64(t.offline_amount_cap.minor());
  w.U32(t.offline_count_cap);
  AYNI_CHECK(w.size() == kLoadTokenBodySize);
  return w.Take();
}

Bytes EncodeSignedLoadToken(const SignedLoadToken& t) {
  Bytes out = EncodeLoadTokenBody(t.token);
  out.insert(out.end(), t.signature.begin(), t.signature.end());
  return out;
}

Result<SignedLoadToken> ParseSignedLoadToken(std::span<const uint8_t> bytes) {
  if (bytes.size() != kLoadTokenSize) {
    return Status::InvalidArgument("load token has " + std::to_string(bytes.size()) +
                                   " bytes; it must have " + std::to_string(kLoadTokenSize));
  }
  ByteReader in(bytes);
  SignedLoadToken s;
  LoadToken& t = s.token;
  t.version = in.U8();
  t.card_id = CardId(in.Array<16>());
  t.counter = in.U32();
  t.challenge = in.Array<16>();
  t.amount = Amount(in.I64());
  t.load_id = LoadId(in.Array<16>());
  t.offline_amount_cap = Amount(in.I64());
  t.offline_count_cap = in.U32();
  s.signature = in.Array<64>();
  AYNI_CHECK(in.done());
  if (Status st = ValidateLoadToken(t); !st.ok()) return st;
  return s;
}

SignedLoadToken SignLoadToken(const LoadToken& token, const KeyPair& bank) {
  AYNI_CHECK(ValidateLoadToken(token).ok());
  return {token, SignWithPrefix(bank, kLoadTokenPrefix, EncodeLoadTokenBody(token))};
}

bool VerifyLoadTokenSignature(const SignedLoadToken& t, const PublicKey& bank) {
  return VerifyWithPrefix(bank, kLoadTokenPrefix, EncodeLoadTokenBody(t.token), t.signature);
}

}  // namespace ayni::cardio
