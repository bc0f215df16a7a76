// The kiosk (SPEC §5 "Kiosk"): offline payments with a purse card, online loads, batch
// upload of receipts and deny-list sync, and card issue at the bank desk.
//
// A Kiosk owns its directory while it lives (an exclusive lock on `<dir>/lock`): the
// state file (kiosk_state.h) and the receipt log (receipt_log.h). It reaches a card
// through a PurseClient (a PC/SC reader in `ayni-kiosk`, the applet in-process in tests)
// and the bank through a CardServer (gRPC in `ayni-kiosk`, a fake in tests).
//
// Contracts:
//  * "paid" only after the debit record verified offline (certificate under a bank key
//    from the last sync, card id and key, expiry, deny-list, caps, the record's signature
//    and CheckDebitMatches) and its receipt is on disk (write + fdatasync);
//  * before DEBIT or CREDIT LOAD is sent, the operation is saved as pending; if the card
//    goes away with the answer, its next contact (pay, load, balance, recover) reads GET
//    LAST RECORD and stores the record if it answers the pending operation — exactly once
//    (the log refuses the same bytes twice);
//  * offline sales are refused when the deny-list or the oldest unsent receipt is older
//    than the policy (policy.h);
//  * sync marks a receipt sent only after the bank answered for it; a crash in between
//    re-uploads it, which the bank reports as DUPLICATE.
// Every operation returns a Status when it could not be carried out (card removed, server
// unreachable, disk failing, malformed answers: kUnavailable / kDataLoss), otherwise an
// Outcome, which says whether it was refused (card or policy refusal) and what to show.
// Thread-compatible: one operation at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cardio/file_io.h"
#include "cardio/kiosk/card_server.h"
#include "cardio/kiosk/kiosk_state.h"
#include "cardio/kiosk/policy.h"
#include "cardio/kiosk/receipt_log.h"
#include "cardio/purse_client.h"
#include "clearing/amount.h"
#include "clearing/card/certificate.h"
#include "clearing/card/crypto.h"
#include "clearing/status.h"

namespace ayni::cardio::kiosk {

// Records in one SubmitOfflineBatch (the server takes up to 10,000; smaller batches keep
// each request small and each answer quick).
inline constexpr size_t kBatchRecordsMax = 1000;

struct KioskIdentity {
  TerminalId terminal_id;
  uint64_t kiosk_id = 0;          // the bank's id of this kiosk (shown only)
  uint64_t merchant_account = 0;  // the account it collects for (shown only)
  OfflinePolicy policy;
  int64_t scale = 100;  // minor units per unit of the currency, for display
};

struct Outcome {
  bool refused = false;  // a refusal by the card, the bank or the offline policy
  std::string message;   // one line for people
  std::vector<std::pair<std::string, std::string>> fields;  // details, in order
  std::vector<std::string> notes;  // recoveries and reports (e.g. rejected receipts)
};

struct LoadOptions {
  std::optional<Amount> offline_amount_cap;  // unset: the certificate's maximum
  std::optional<uint32_t> offline_count_cap;
};

struct IssueTerms {
  std::optional<CardId> card_id;  // unset: a random one
  uint64_t account_id = 0;
  CardLimits limits;
  uint64_t expiry_s = 0;
};

// Paths inside a kiosk directory.
std::string KeyPath(const std::string& dir);       // kiosk.key
std::string ConfigPath(const std::string& dir);    // kiosk.conf
std::string StatePath(const std::string& dir);     // state
std::string ReceiptsPath(const std::string& dir);  // receipts.log

// `ayni-kiosk init`: creates `dir` (0700) if needed and kiosk.key (0600, a fresh Ed25519
// seed); refuses (kFailedPrecondition) when a key is already there. Returns the key.
Result<KeyPair> CreateKioskKey(const std::string& dir, RandomSource& random);
Result<KeyPair> ReadKioskKey(const std::string& dir);

class Kiosk {
 public:
  // Locks the directory and loads state and receipts (warnings: a torn log tail).
  static Result<std::unique_ptr<Kiosk>> Open(const std::string& dir, const KioskIdentity& identity,
                                             const KeyPair& key, RandomSource& random);

  Result<Outcome> Pay(PurseClient& card, Amount amount, uint64_t now_s);
  Result<Outcome> Balance(PurseClient& card, uint64_t now_s);
  Result<Outcome> Recover(PurseClient& card, uint64_t now_s);
  Result<Outcome> Load(PurseClient& card, CardServer& server, Amount amount,
                       const LoadOptions& options, uint64_t now_s);
  Result<Outcome> Sync(CardServer& server, uint64_t now_s);
  Result<Outcome> Issue(PurseClient& card, CardServer& server, const IssueTerms& terms);
  Outcome Report(uint64_t now_s) const;  // `ayni-kiosk status`

  const KioskState& state() const { return state_; }
  const ReceiptLog& receipts() const { return log_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  Kiosk(std::string dir, KioskIdentity identity, KeyPair key, RandomSource& random, FileLock lock,
        KioskState state, ReceiptLog log, std::vector<std::string> warnings);

  // SELECT + GET CARD DATA of an issued card; a refusal or a card not issued → Outcome.
  Result<std::optional<CardData>> ReadCard(PurseClient& card, Outcome* refused);
  // The bank key the certificate verifies under (any of the synced banks' keys).
  std::optional<PublicKey> BankKeyFor(const SignedCertificate& cert) const;
  // The offline trust checks: known bank, not expired, not on the deny-list.
  ayni::Status CheckCardTrust(const CardData& card, uint64_t now_s) const;
  // Settles the pending operations of this card through GET LAST RECORD.
  ayni::Status ResolvePending(PurseClient& card, const CardData& data, uint64_t now_s,
                              Outcome* out);
  // GetDenyList, stored with the kiosk's time of fetching.
  ayni::Status RefreshDenyList(CardServer& server, uint64_t now_s);
  ayni::Status AddPending(const PendingOperation& p);
  ayni::Status DropPending(const PendingOperation& p);
  ayni::Status Save();
  std::string Money(Amount a) const;

  std::string dir_;
  KioskIdentity identity_;
  KeyPair key_;
  RandomSource& random_;
  FileLock lock_;
  KioskState state_;
  ReceiptLog log_;
  std::vector<std::string> warnings_;
};

}  // namespace ayni::cardio::kiosk
