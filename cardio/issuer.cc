#include "cardio/issuer.h"

#include <string>

namespace ayni::cardio {

namespace {

// The value of a 9000 answer; otherwise the transport error or the card's refusal.
template <typename T>
Result<T> Expect(Result<CardReply<T>> r, const char* command) {
  if (!r.ok()) return r.status();
  if (!r->ok()) {
    return Status::FailedPrecondition(std::string("the card refused ") + command + ": " +
                                      SwName(r->sw));
  }
  return std::move(*r->value);
}

}  // namespace

Result<SignedCertificate> PersonaliseCard(PurseClient& client, const KeyPair& bank,
                                          Certificate fields) {
  if (Status st = ValidateCertificate(fields); !st.ok()) return st;
  if (auto r = Expect(client.Select(), "SELECT"); !r.ok()) return r.status();
  Result<PublicKey> key = Expect(client.GenerateKey(fields.card_id), "GENERATE KEY");
  if (!key.ok()) return key.status();
  if (auto r = Expect(client.PutBankKey(bank.public_key), "PUT BANK KEY"); !r.ok()) {
    return r.status();
  }
  fields.card_public_key = *key;
  const SignedCertificate cert = IssueCertificate(fields, bank);
  if (auto r = Expect(client.PutCertificate(cert), "PUT CERTIFICATE"); !r.ok()) {
    return r.status();
  }
  return cert;
}

Result<SignedLoadToken> AuthoriseLoad(PurseClient& client, const KeyPair& bank, const CardId& card,
                                      const LoadTerms& terms) {
  LoadToken t;
  t.card_id = card;
  t.amount = terms.amount;
  t.load_id = terms.load_id;
  t.offline_amount_cap = terms.offline_amount_cap;
  t.offline_count_cap = terms.offline_count_cap;
  if (Status st = ValidateLoadToken(t); !st.ok()) return st;
  Result<LoadChallenge> c = Expect(client.InitializeLoad(terms.amount), "INITIALIZE LOAD");
  if (!c.ok()) return c.status();
  t.counter = c->counter;
  t.challenge = c->challenge;
  return SignLoadToken(t, bank);
}

Result<SignedRecord> LoadCard(PurseClient& client, const KeyPair& bank, const CardId& card,
                              const LoadTerms& terms) {
  Result<SignedLoadToken> token = AuthoriseLoad(client, bank, card, terms);
  if (!token.ok()) return token.status();
  return Expect(client.CreditLoad(*token), "CREDIT LOAD");
}

}  // namespace ayni::cardio
