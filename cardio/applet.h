// The purse applet: the card's whole behaviour as pure logic over APDUs (SPEC §5).
//
// PurseApplet::Process takes one C-APDU and returns one R-APDU (data ‖ SW1SW2); it never
// fails otherwise. It owns two kinds of state, like a Java Card applet:
//  * CardState, the persistent part (EEPROM): keys, certificate, balance, counter, chain,
//    offline counters, the pending load challenge, the last record. Every change is made
//    on a copy and committed at once, and bumps state_changes(): whoever hosts the applet
//    (ayni-vcard) must persist the state before it sends the response, so that a signed
//    record never leaves the card unless its counter is durable;
//  * the transient part (RAM), cleared by Reset() (power on/off, card reset): whether the
//    applet is selected, and the purchase that INITIALIZE PURCHASE prepared. Every command
//    other than DEBIT discards a prepared purchase, so DEBIT works only right after it.
// The card never signs twice for one counter value: a record always carries counter + 1,
// and the counter is part of the same commit (checked, not assumed).
//
// Randomness (the key seed, load challenges) comes from the RandomSource given at
// construction, which must outlive the applet. Thread-compatible: one caller at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "cardio/apdu.h"
#include "cardio/messages.h"
#include "clearing/amount.h"
#include "clearing/card/bytes.h"
#include "clearing/card/certificate.h"
#include "clearing/card/crypto.h"
#include "clearing/card/load_request.h"
#include "clearing/card/load_token.h"
#include "clearing/card/protocol.h"
#include "clearing/card/record.h"
#include "clearing/status.h"

namespace ayni::cardio {

struct CardState {
  Lifecycle lifecycle = Lifecycle::kBlank;
  CardId card_id;
  KeySeed key_seed{};  // the card's private key; never leaves the card over APDUs
  std::optional<PublicKey> bank_public_key;
  std::optional<SignedCertificate> certificate;
  Amount balance;
  uint32_t counter = 0;      // the counter of the last record (0: none yet)
  Sha256Digest last_hash{};  // SHA-256 of the last record's body (zeros: none yet)
  LoadId last_load_id;
  Amount offline_amount;       // debited since the last load
  uint32_t offline_count = 0;  // debits since the last load
  Amount offline_amount_cap;   // from the last load token
  uint32_t offline_count_cap = 0;
  std::optional<Nonce> load_challenge;  // from INITIALIZE LOAD until a load or a record
  std::optional<SignedRecord> last_record;

  friend bool operator==(const CardState&, const CardState&) = default;
};

// The state file's bytes (ayni-vcard): "AYNICARD" ‖ u16 format 1 ‖ fields ‖ SHA-256 of
// everything before it. Deserialize refuses a wrong magic, format, checksum or size, and
// a state that is inconsistent (an issued card without certificate, a certificate for
// another key, negative amounts, a last record whose counter is not the card's).
Bytes SerializeCardState(const CardState& state);
Result<CardState> DeserializeCardState(std::span<const uint8_t> bytes);

class PurseApplet {
 public:
  explicit PurseApplet(RandomSource& random, CardState state = {});

  PurseApplet(const PurseApplet&) = delete;
  PurseApplet& operator=(const PurseApplet&) = delete;

  // Power on, power off or reset: clears the transient state.
  void Reset();
  Bytes Process(std::span<const uint8_t> command);

  const CardState& state() const { return state_; }
  // Incremented by every committed change of the persistent state.
  uint64_t state_changes() const { return state_changes_; }

 private:
  ResponseApdu Dispatch(const CommandApdu& apdu, std::optional<PurchaseRequest> prepared);
  ResponseApdu Select(const CommandApdu& apdu);
  ResponseApdu GetCardData(const CommandApdu& apdu);
  ResponseApdu GetBalance(const CommandApdu& apdu);
  ResponseApdu InitializePurchase(const CommandApdu& apdu);
  ResponseApdu Debit(const CommandApdu& apdu, std::optional<PurchaseRequest> prepared);
  ResponseApdu GetLastRecord(const CommandApdu& apdu);
  ResponseApdu InitializeLoad(const CommandApdu& apdu);
  ResponseApdu CreditLoad(const CommandApdu& apdu);
  ResponseApdu GenerateKey(const CommandApdu& apdu);
  ResponseApdu PutBankKey(const CommandApdu& apdu);
  ResponseApdu PutCertificate(const CommandApdu& apdu);

  Sw CheckPurchase(const PurchaseRequest& p) const;
  // Signs `record` (its counter must be state_.counter + 1), chains it into `next` and
  // commits `next`.
  SignedRecord SignAndCommit(OfflineRecord record, CardState next);
  void Commit(CardState next);

  RandomSource& random_;
  CardState state_;
  KeyPair key_;  // derived from state_.key_seed once there is one
  bool selected_ = false;
  std::optional<PurchaseRequest> prepared_;
  uint64_t state_changes_ = 0;
};

}  // namespace ayni::cardio
