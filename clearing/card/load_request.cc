#include "clearing/card/load_request.h"

#include "clearing/check.h"

namespace ayni::cardio {

Bytes EncodeLoadRequestBody(const LoadRequest& r) {
  ByteWriter w(kLoadRequestBodySize);
  w.U8(kLoadRequestVersion);
  w.Raw(r.card_id.bytes());
  w.U32(r.counter);
  w.Raw(r.challenge);
  w.I64(r.amount.minor());
  AYNI_CHECK(w.size() == kLoadRequestBodySize);
  return w.Take();
}

Signature SignLoadRequest(const LoadRequest& request, const KeyPair& card) {
  return SignWithPrefix(card, kLoadRequestPrefix, EncodeLoadRequestBody(request));
}

bool VerifyLoadRequestSignature(const LoadRequest& request, const Signature& signature,
                                const PublicKey& card_key) {
  return VerifyWithPrefix(card_key, kLoadRequestPrefix, EncodeLoadRequestBody(request), signature);
}

}  // namespace ayni::cardio
