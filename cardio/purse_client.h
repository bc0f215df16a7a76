// PurseClient: the purse protocol, typed, over any CardChannel (kiosk, bank desk, tests).
//
// Every call returns Result<CardReply<T>>: a Status when the exchange failed (the card was
// removed; the card answered 9000 with data of the wrong shape, kDataLoss), otherwise the
// card's status word, and the decoded answer when it is 9000. Refusals (limits, balance,
// go online) are data, never errors. The client holds no card state; the channel must
// outlive it. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>

#include "cardio/channel.h"
#include "cardio/host.h"
#include "cardio/messages.h"
#include "cardio/status_words.h"
#include "clearing/amount.h"
#include "clearing/card/certificate.h"
#include "clearing/card/load_token.h"
#include "clearing/card/record.h"
#include "clearing/status.h"

namespace ayni::cardio {

template <typename T>
struct CardReply {
  Sw sw = Sw::kOk;
  std::optional<T> value;  // set exactly when sw is 9000
  bool ok() const { return sw == Sw::kOk; }
};

struct Empty {};

// The debit record answers this purchase: same terminal fields and amount, the next
// counter, the balance reduced by the amount.
Status CheckDebitMatches(const SignedRecord& record, const PurchaseRequest& request,
                         const PurchaseQuote& quote);

class PurseClient {
 public:
  explicit PurseClient(CardChannel& channel) : channel_(channel) {}

  Result<CardReply<SelectAnswer>> Select();
  Result<CardReply<CardData>> GetCardData();
  Result<CardReply<BalanceAnswer>> GetBalance();
  Result<CardReply<PurchaseQuote>> InitializePurchase(const PurchaseRequest& request);
  Result<CardReply<SignedRecord>> Debit();
  Result<CardReply<SignedRecord>> GetLastRecord();
  // The card signs a load request for `amount` (>= 0; a negative one is refused 6A80).
  Result<CardReply<LoadChallenge>> InitializeLoad(Amount amount);
  Result<CardReply<SignedRecord>> CreditLoad(const SignedLoadToken& token);
  // Personalisation.
  Result<CardReply<PublicKey>> GenerateKey(const CardId& card_id);
  Result<CardReply<Empty>> PutBankKey(const PublicKey& bank);
  Result<CardReply<Empty>> PutCertificate(const SignedCertificate& certificate);

  // The raw exchange, for commands the typed calls do not cover (tests of refusals).
  Result<ResponseApdu> Exchange(const CommandApdu& command);

 private:
  CardChannel& channel_;
};

}  // namespace ayni::cardio
