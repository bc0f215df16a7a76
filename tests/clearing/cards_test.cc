// Cards and kiosks in the ledger (clearing/cards.h, docs/cards.md): registration and its
// refusals, loads, blocks, and the reconciliation of offline records — settlement from the
// float and from losses, clones (counter conflict, chain fork, balance break, unknown
// load), duplicates, rejections, SUSPENSE, cross-bank merchants, unapplied loads — with
// abort, restore and the card_float_mismatch invariant. Amounts are hand-computed.
#include "clearing/cards.h"

#include <gtest/gtest.h>

#include <vector>

#include "clearing/hash.h"
#include "clearing/ledger.h"
#include "tests/clearing/ledger_compare.h"
#include "tests/clearing/ledger_fixture.h"

namespace ayni {
namespace {

constexpr uint64_t kExpiry = 2'000'000'000;  // 2033
constexpr uint64_t kNow = 1'800'000'000;

CardPublicKey Key(uint8_t seed) {
  CardPublicKey k{};
  k.fill(seed);
  return k;
}

// A card as the tests drive it: its counter, balance, last record hash and last load.
// Records carry fake bytes (the ledger does not parse them): the fields written in, plus
// a `variant` byte so that a clone's record differs from the original's.
struct SimCard {
  CardId id;
  uint32_t counter = 0;
  Amount balance;
  Hash256 last_hash{};
  LoadId last_load;
  uint8_t variant = 0;
  uint32_t sequence = 0;

  OfflineReceipt Record(bool load, int64_t amount, const TerminalId& terminal) {
    OfflineReceipt r;
    r.load = load;
    r.card = id;
    r.counter = ++counter;
    r.amount = Amount(amount);
    balance = Amount(balance.minor() + (load ? amount : -amount));
    r.balance_after = balance;
    r.terminal = terminal;
    r.terminal_sequence = ++sequence;
    r.terminal_time_s = kNow;
    r.last_load = last_load;
    r.previous_hash = last_hash;
    size_t i = 0;
    auto put = [&](uint64_t v) {
      for (int s = 56; s >= 0; s -= 8) r.bytes[i++] = static_cast<uint8_t>(v >> s);
    };
    put(id.Halves().first), put(id.Halves().second), put(r.counter), put(U64(amount)),
        put(U64(balance.minor())), put(load ? 1 : 0), put(variant);
    std::copy(r.previous_hash.begin(), r.previous_hash.end(), r.bytes.begin() + i);
    r.body_hash = Blake2b256(std::span(r.bytes.data(), 146));
    last_hash = r.body_hash;
    return r;
  }
  OfflineReceipt Debit(int64_t amount, const TerminalId& terminal) {
    return Record(false, amount, terminal);
  }
  // The load record of an authorised load (its counter is the load's + 1).
  OfflineReceipt Load(const AuthorizeCardLoadCmd& a) {
    last_load = LoadId(a.request.bytes());
    OfflineReceipt r = Record(true, a.amount.minor(), TerminalId());
    return r;
  }
  static uint64_t U64(int64_t v) { return static_cast<uint64_t>(v); }
};

class CardsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    n.Build();
    Ok([&](RequestId r) { return n.ledger.FundReserve({r, n.a, Amount(1'000'000), FundSource::kVault, ""}); });
    Ok([&](RequestId r) { return n.ledger.FundReserve({r, n.b, Amount(1'000'000), FundSource::kVault, ""}); });
    Ok([&](RequestId r) { return n.ledger.Issue({r, n.ana_palma, Amount(40'000), ""}); });
    bia_shop = AccountId(
        Ok([&](RequestId r) { return n.ledger.OpenAccount({r, n.bia, n.sol, AccountKind::kMerchant}); })
            .id);
    t1 = TerminalId::FromParts(0x7e, 1);
    t2 = TerminalId::FromParts(0x7e, 2);
    k1 = KioskId(Ok([&](RequestId r) { return n.ledger.RegisterKiosk(Kiosk(r, t1, 1, n.caio_palma)); }).id);
    k2 = KioskId(Ok([&](RequestId r) { return n.ledger.RegisterKiosk(Kiosk(r, t2, 2, bia_shop)); }).id);
    card.id = CardId::FromParts(0xCA, 1);
    Ok([&](RequestId r) { return n.ledger.RegisterCard(Card(r, card.id, 10, n.ana_palma)); });
  }

  template <typename F>
  OpResult Ok(F&& f) {
    const OpResult r = n.One(std::forward<F>(f));
    EXPECT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome) << " detail=" << r.detail;
    return r;
  }
  static RegisterKioskCmd Kiosk(RequestId r, TerminalId t, uint8_t key, AccountId merchant) {
    return {r, t, Key(key), merchant, "Kiosk " + std::to_string(key)};
  }
  static RegisterCardCmd Card(RequestId r, CardId id, uint8_t key, AccountId account) {
    return {r, id, Key(key), account, {Amount(10'000), Amount(20'000), 10, Amount(50'000)}, kExpiry};
  }
  AuthorizeCardLoadCmd LoadCmd(const SimCard& c, int64_t amount) {
    AuthorizeCardLoadCmd a;
    a.request = n.Next();
    a.card = c.id;
    a.amount = Amount(amount);
    a.counter = c.counter;
    a.challenge.fill(static_cast<uint8_t>(a.request.Halves().second));
    a.offline_amount_cap = Amount(5'000);
    a.offline_count_cap = 5;
    return a;
  }
  // Authorises a load and returns its command (for the card's load record).
  AuthorizeCardLoadCmd Authorize(const SimCard& c, int64_t amount) {
    const AuthorizeCardLoadCmd a = LoadCmd(c, amount);
    n.Begin();
    const OpResult r = n.ledger.AuthorizeCardLoad(a);
    EXPECT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome) << " " << r.detail;
    n.Seal();
    return a;
  }
  SettleOfflineReport Settle(KioskId kiosk, std::vector<OfflineReceipt> receipts) {
    SettleOfflineReport rep;
    n.Begin();
    const OpResult r = n.ledger.SettleOffline({kiosk, std::move(receipts)}, &rep);
    EXPECT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome);
    n.Seal();
    ExpectClean();
    return rep;
  }
  void ExpectClean() { n.ExpectClean(); }
  const Currency& Palma() { return *n.ledger.FindCurrency(n.palma); }
  Amount Float() { return n.Balance(Palma().card_float); }
  Amount Losses() { return n.Balance(Palma().card_losses); }
  Amount Suspense() { return n.Balance(Palma().suspense); }
  const CardRecord& CardOf(const SimCard& c) { return *n.ledger.FindCard(c.id); }
  // Loads 30000 and confirms it with the card's load record at kiosk 1.
  void LoadAndApply(int64_t amount) {
    const AuthorizeCardLoadCmd a = Authorize(card, amount);
    const SettleOfflineReport rep = Settle(k1, {card.Load(a)});
    EXPECT_EQ(rep.receipts[0].status, ReceiptStatus::kLoadConfirmed);
  }

  Network n;
  AccountId bia_shop;
  TerminalId t1, t2;
  KioskId k1, k2;
  SimCard card;
};

TEST_F(CardsTest, KioskRegistrationRefusals) {
  auto refuse = [&](RegisterKioskCmd c, Outcome want, std::string_view detail) {
    n.Begin();
    const OpResult r = n.ledger.RegisterKiosk(c);
    EXPECT_EQ(r.outcome, want) << OutcomeName(r.outcome) << " " << r.detail;
    EXPECT_EQ(std::string_view(r.detail), detail);
    EXPECT_EQ(n.ledger.batch_transfer_count(), 0u);
    n.ledger.AbortBatch();
  };
  const TerminalId t3 = TerminalId::FromParts(0x7e, 3);
  refuse(Kiosk(n.Next(), TerminalId(), 3, n.caio_palma), Outcome::kInvalidCardTerms, "terminal");
  refuse(Kiosk(n.Next(), t3, 0, n.caio_palma), Outcome::kInvalidCardTerms, "public_key");
  RegisterKioskCmd bad_label = Kiosk(n.Next(), t3, 3, n.caio_palma);
  bad_label.label = "";
  refuse(bad_label, Outcome::kInvalidName, "label");
  refuse(Kiosk(n.Next(), t3, 3, AccountId(999)), Outcome::kAccountNotFound, "merchant");
  refuse(Kiosk(n.Next(), t3, 3, n.ana_palma), Outcome::kWrongAccountKind, "merchant");
  refuse(Kiosk(n.Next(), t1, 3, n.caio_palma), Outcome::kKioskExists, "terminal");
  refuse(Kiosk(n.Next(), t3, 1, n.caio_palma), Outcome::kKioskExists, "public_key");
  Ok([&](RequestId r) {
    return n.ledger.SetAccountStatus({r, n.caio_palma, AccountStatus::kFrozen, "teller", "x"});
  });
  refuse(Kiosk(n.Next(), t3, 3, n.caio_palma), Outcome::kCreditAccountFrozen, "merchant");
  EXPECT_EQ(n.ledger.kiosks().size(), 2u);
  const KioskRecord* k = n.ledger.FindKioskByTerminal(t2);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->id, k2);
  EXPECT_EQ(k->bank, n.b);  // the merchant's bank
  EXPECT_EQ(n.ledger.FindKiosk(k1)->merchant, n.caio_palma);
  // An identical retry answers the original; other fields are named.
  const RequestId first = n.ledger.kiosks()[0].request;
  n.Begin();
  OpResult r = n.ledger.RegisterKiosk(Kiosk(first, t1, 1, n.caio_palma));
  EXPECT_EQ(r.outcome, Outcome::kExists);
  EXPECT_EQ(r.id, k1.value());
  r = n.ledger.RegisterKiosk(Kiosk(first, t1, 9, n.caio_palma));
  EXPECT_EQ(r.outcome, Outcome::kExistsWithDifferentFields);
  EXPECT_EQ(std::string_view(r.detail), "public_key");
  n.ledger.AbortBatch();
}

TEST_F(CardsTest, CardRegistrationRefusals) {
  auto refuse = [&](RegisterCardCmd c, Outcome want, std::string_view detail) {
    n.Begin();
    const OpResult r = n.ledger.RegisterCard(c);
    EXPECT_EQ(r.outcome, want) << OutcomeName(r.outcome) << " " << r.detail;
    EXPECT_EQ(std::string_view(r.detail), detail);
    n.ledger.AbortBatch();
  };
  const CardId c2 = CardId::FromParts(0xCA, 2);
  refuse(Card(n.Next(), CardId(), 11, n.ana_palma), Outcome::kInvalidCardTerms, "card");
  refuse(Card(n.Next(), c2, 0, n.ana_palma), Outcome::kInvalidCardTerms, "public_key");
  RegisterCardCmd c = Card(n.Next(), c2, 11, n.ana_palma);
  c.limits.payment_max = Amount(0);
  refuse(c, Outcome::kInvalidCardTerms, "payment_max");
  c = Card(n.Next(), c2, 11, n.ana_palma);
  c.limits.balance_max = Amount(0);
  refuse(c, Outcome::kInvalidCardTerms, "balance_max");
  c = Card(n.Next(), c2, 11, n.ana_palma);
  c.limits.offline_amount_max = Amount(-1);
  refuse(c, Outcome::kInvalidCardTerms, "offline_amount_max");
  c = Card(n.Next(), c2, 11, n.ana_palma);
  c.expiry_s = 0;
  refuse(c, Outcome::kInvalidCardTerms, "expiry_s");
  refuse(Card(n.Next(), c2, 11, n.caio_palma), Outcome::kWrongAccountKind, "account");
  refuse(Card(n.Next(), c2, 11, n.ana_feira), Outcome::kWrongCurrencyKind, "account");
  refuse(Card(n.Next(), card.id, 11, n.ana_palma), Outcome::kCardExists, "card");
  refuse(Card(n.Next(), c2, 10, n.ana_palma), Outcome::kCardExists, "public_key");
  const CardRecord& r = CardOf(card);
  EXPECT_EQ(r.account, n.ana_palma);
  EXPECT_EQ(r.currency, n.palma);
  EXPECT_EQ(r.bank, n.a);
  EXPECT_EQ(r.status, CardStatus::kActive);
  EXPECT_EQ(n.ledger.cards().size(), 1u);
}

TEST_F(CardsTest, LoadPostsAndRefusals) {
  const AuthorizeCardLoadCmd a = Authorize(card, 30'000);
  EXPECT_EQ(n.Balance(n.ana_palma), Amount(10'000));
  EXPECT_EQ(Float(), Amount(30'000));
  const CardLoadRecord* l = n.ledger.FindCardLoad(LoadId(a.request.bytes()));
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->state, CardLoadState::kPending);
  EXPECT_EQ(l->amount, Amount(30'000));
  ExpectClean();

  auto refuse = [&](AuthorizeCardLoadCmd c, Outcome want, std::string_view detail) {
    n.Begin();
    const OpResult r = n.ledger.AuthorizeCardLoad(c);
    EXPECT_EQ(r.outcome, want) << OutcomeName(r.outcome) << " " << r.detail;
    EXPECT_EQ(std::string_view(r.detail), detail);
    EXPECT_EQ(n.ledger.batch_transfer_count(), 0u);
    n.ledger.AbortBatch();
  };
  refuse(LoadCmd(card, 20'000), Outcome::kInsufficientFunds, "from");
  refuse(LoadCmd(card, 50'001), Outcome::kLoadAboveLimit, "amount");
  AuthorizeCardLoadCmd c = LoadCmd(card, 100);
  c.offline_amount_cap = Amount(20'001);
  refuse(c, Outcome::kLoadAboveLimit, "offline_amount_cap");
  c = LoadCmd(card, 100);
  c.offline_count_cap = 11;
  refuse(c, Outcome::kLoadAboveLimit, "offline_count_cap");
  c = LoadCmd(card, -1);
  refuse(c, Outcome::kAmountNotPositive, "amount");
  c = LoadCmd(card, 100);
  c.card = CardId::FromParts(0xCA, 99);
  refuse(c, Outcome::kCardNotFound, "card");

  // A zero load records the renewal and posts nothing.
  n.Begin();
  const AuthorizeCardLoadCmd z = LoadCmd(card, 0);
  const OpResult r = n.ledger.AuthorizeCardLoad(z);
  EXPECT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(r.legs, 0u);
  EXPECT_EQ(n.ledger.batch_transfer_count(), 0u);
  EXPECT_EQ(n.ledger.AuthorizeCardLoad(z).outcome, Outcome::kExists);
  n.Seal();
  EXPECT_EQ(n.ledger.card_loads().size(), 2u);
  ExpectClean();
}

TEST_F(CardsTest, DebitSettlesFromFloat) {
  LoadAndApply(30'000);
  EXPECT_EQ(CardOf(card).shadow, Amount(30'000));
  EXPECT_EQ(n.ledger.card_loads()[0].state, CardLoadState::kApplied);
  const Amount caio = n.Balance(n.caio_palma);
  const SettleOfflineReport rep = Settle(k1, {card.Debit(1'000, t1), card.Debit(2'500, t1)});
  EXPECT_EQ(rep.settled, 2u);
  EXPECT_EQ(rep.from_float, Amount(3'500));
  EXPECT_EQ(rep.from_losses, Amount(0));
  EXPECT_EQ(rep.receipts[1].status, ReceiptStatus::kSettled);
  EXPECT_EQ(n.Balance(n.caio_palma), Amount(caio.minor() + 3'500));
  EXPECT_EQ(Float(), Amount(26'500));
  EXPECT_EQ(CardOf(card).shadow, Amount(26'500));
  EXPECT_EQ(CardOf(card).max_counter, 3u);
  EXPECT_EQ(CardOf(card).records, 3u);
  EXPECT_EQ(n.ledger.FindKiosk(k1)->receipts, 2u);
  EXPECT_EQ(n.ledger.FindKiosk(k1)->max_sequence, 3u);
}

TEST_F(CardsTest, CounterConflictBlocksKeepsEvidenceAndStillSettles) {
  LoadAndApply(30'000);
  SimCard clone = card;
  clone.variant = 1;
  const OfflineReceipt original = card.Debit(20'000, t1);
  const OfflineReceipt copy = clone.Debit(20'000, t1);  // same counter, other bytes
  const Amount caio = n.Balance(n.caio_palma);
  const SettleOfflineReport rep = Settle(k1, {original, copy});
  EXPECT_EQ(rep.receipts[0].status, ReceiptStatus::kSettled);
  EXPECT_EQ(rep.receipts[0].from_float, Amount(20'000));
  EXPECT_EQ(rep.receipts[1].status, ReceiptStatus::kSettled);
  EXPECT_EQ(rep.receipts[1].blocked, CardBlockReason::kCounterConflict);
  EXPECT_EQ(rep.receipts[1].from_float, Amount(10'000));  // the shadow left
  EXPECT_EQ(rep.receipts[1].from_losses, Amount(10'000));  // the overspend
  EXPECT_EQ(n.Balance(n.caio_palma), Amount(caio.minor() + 40'000));
  EXPECT_EQ(Float(), Amount(0));
  EXPECT_EQ(Losses(), Amount(-10'000));
  const CardRecord& c = CardOf(card);
  EXPECT_EQ(c.status, CardStatus::kBlocked);
  EXPECT_EQ(c.block_reason, CardBlockReason::kCounterConflict);
  ASSERT_EQ(c.evidence.size(), 2u);
  EXPECT_EQ(c.evidence[0], original.bytes);
  EXPECT_EQ(c.evidence[1], copy.bytes);
  ASSERT_EQ(rep.blocked.size(), 1u);
  ASSERT_EQ(n.ledger.deny_list().size(), 1u);
  EXPECT_EQ(n.ledger.deny_list()[0], card.id);
  // The clone's record uploaded again is a duplicate, not a second payment.
  const SettleOfflineReport again = Settle(k1, {copy, original});
  EXPECT_EQ(again.duplicates, 2u);
  EXPECT_EQ(Losses(), Amount(-10'000));
}

TEST_F(CardsTest, ChainForkBlocks) {
  LoadAndApply(30'000);
  SimCard clone = card;  // copied at counter 1
  clone.variant = 1;
  const OfflineReceipt a = card.Debit(1'000, t1);  // counter 2, previous = h1
  clone.counter = 6;                               // skips ahead with the same previous hash
  const OfflineReceipt b = clone.Debit(1'000, t1);  // counter 7, previous = h1
  const SettleOfflineReport rep = Settle(k1, {b, a});
  // Processed by counter: a first, then b, which claims a's previous hash.
  EXPECT_EQ(rep.receipts[1].blocked, CardBlockReason::kNone);
  EXPECT_EQ(rep.receipts[0].blocked, CardBlockReason::kChainFork);
  EXPECT_EQ(rep.receipts[0].status, ReceiptStatus::kSettled);
  EXPECT_EQ(CardOf(card).block_reason, CardBlockReason::kChainFork);
  EXPECT_EQ(CardOf(card).evidence.size(), 2u);
  EXPECT_EQ(CardOf(card).shadow, Amount(28'000));
}

TEST_F(CardsTest, BalanceBreakAndUnknownLoadBlock) {
  LoadAndApply(30'000);
  SimCard lying = card;
  OfflineReceipt r = lying.Debit(1'000, t1);
  r.balance_after = Amount(29'500);  // 30000 − 1000 is 29000
  SettleOfflineReport rep = Settle(k1, {r});
  EXPECT_EQ(rep.receipts[0].blocked, CardBlockReason::kBalanceBreak);
  EXPECT_EQ(rep.receipts[0].status, ReceiptStatus::kSettled);

  SimCard other;
  other.id = CardId::FromParts(0xCA, 3);
  Ok([&](RequestId q) { return n.ledger.RegisterCard(Card(q, other.id, 12, n.ana_palma)); });
  AuthorizeCardLoadCmd never = LoadCmd(other, 1'000);  // not authorised
  rep = Settle(k1, {other.Load(never)});
  EXPECT_EQ(rep.receipts[0].blocked, CardBlockReason::kUnknownLoad);
  EXPECT_EQ(rep.receipts[0].status, ReceiptStatus::kLoadConfirmed);
  EXPECT_EQ(CardOf(other).shadow, Amount(0));
  EXPECT_EQ(n.ledger.deny_list().size(), 2u);
}

TEST_F(CardsTest, DuplicateWrongTerminalExpiredUnknownCard) {
  LoadAndApply(30'000);
  const OfflineReceipt d = card.Debit(1'000, t1);
  Settle(k1, {d});
  SimCard stranger;
  stranger.id = CardId::FromParts(0xCA, 77);
  SimCard late = card;
  OfflineReceipt expired = late.Debit(1'000, t1);
  expired.terminal_time_s = kExpiry;
  SimCard elsewhere = card;
  const OfflineReceipt wrong = elsewhere.Debit(1'000, t2);  // made at kiosk 2, sent by kiosk 1
  const Amount caio = n.Balance(n.caio_palma);
  n.Begin();
  SettleOfflineReport rep;
  const OpResult r =
      n.ledger.SettleOffline({k1, {d, wrong, expired, stranger.Debit(500, t1)}}, &rep);
  EXPECT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(n.ledger.batch_transfer_count(), 0u);
  n.Seal();
  EXPECT_EQ(rep.receipts[0].status, ReceiptStatus::kDuplicate);
  EXPECT_EQ(rep.receipts[1].reject, ReceiptReject::kWrongTerminal);
  EXPECT_EQ(rep.receipts[2].reject, ReceiptReject::kCertificateExpired);
  EXPECT_EQ(rep.receipts[3].reject, ReceiptReject::kUnknownCard);
  EXPECT_EQ(rep.duplicates, 1u);
  EXPECT_EQ(rep.rejected, 3u);
  EXPECT_EQ(n.Balance(n.caio_palma), caio);
  EXPECT_EQ(CardOf(card).records, 2u);
  EXPECT_EQ(CardOf(card).status, CardStatus::kActive);
  // Whole-call refusals.
  n.Begin();
  EXPECT_EQ(n.ledger.SettleOffline({KioskId(99), {}}, &rep).outcome, Outcome::kKioskNotFound);
  EXPECT_EQ(n.ledger.SettleOffline({k1, std::vector<OfflineReceipt>(kOfflineBatchMax + 1)}, &rep)
                .outcome,
            Outcome::kLimitReached);
  n.ledger.AbortBatch();
}

TEST_F(CardsTest, FrozenMerchantPaysSuspense) {
  LoadAndApply(30'000);
  Ok([&](RequestId r) {
    return n.ledger.SetAccountStatus({r, n.caio_palma, AccountStatus::kFrozen, "teller", "x"});
  });
  const SettleOfflineReport rep = Settle(k1, {card.Debit(4'000, t1)});
  EXPECT_TRUE(rep.receipts[0].to_suspense);
  EXPECT_EQ(rep.receipts[0].status, ReceiptStatus::kSettled);
  EXPECT_EQ(Suspense(), Amount(4'000));
  EXPECT_EQ(Float(), Amount(26'000));
  EXPECT_EQ(CardOf(card).shadow, Amount(26'000));
}

TEST_F(CardsTest, CrossBankMerchant) {
  LoadAndApply(30'000);
  const Amount palma_supply = n.ledger.Supply(n.palma);
  const Amount sol_supply = n.ledger.Supply(n.sol);
  const SettleOfflineReport rep = Settle(k2, {card.Debit(1'500, t2)});
  EXPECT_EQ(rep.receipts[0].status, ReceiptStatus::kSettled);
  EXPECT_FALSE(rep.receipts[0].to_suspense);
  EXPECT_EQ(n.Balance(bia_shop), Amount(1'500));
  EXPECT_EQ(Float(), Amount(28'500));
  EXPECT_EQ(n.ledger.Supply(n.palma), Amount(palma_supply.minor() - 1'500));  // burnt at A
  EXPECT_EQ(n.ledger.Supply(n.sol), Amount(sol_supply.minor() + 1'500));      // minted at B
  EXPECT_EQ(n.Due(AccountKind::kDueFrom, n.b, n.a), Amount(1'500));  // A owes B
}

TEST_F(CardsTest, UnappliedLoadReturnedAtTheNextCounter) {
  const AuthorizeCardLoadCmd a = Authorize(card, 30'000);  // counter 0: its record would be 1
  EXPECT_EQ(n.Balance(n.ana_palma), Amount(10'000));
  // The card never applied it: its record 1 is a debit (from an earlier balance of 0).
  const SettleOfflineReport rep = Settle(k1, {card.Debit(0, t1)});
  ASSERT_EQ(rep.returned.size(), 1u);
  EXPECT_EQ(rep.returned[0], LoadId(a.request.bytes()));
  EXPECT_EQ(n.ledger.FindCardLoad(rep.returned[0])->state, CardLoadState::kReturned);
  EXPECT_EQ(n.Balance(n.ana_palma), Amount(40'000));
  EXPECT_EQ(Float(), Amount(0));
}

TEST_F(CardsTest, UnappliedLoadReturnedWhenALaterRecordNamesAnOlderLoad) {
  LoadAndApply(10'000);                                      // L1 at counter 0, record 1
  const AuthorizeCardLoadCmd l2 = Authorize(card, 5'000);    // L2 at counter 1
  EXPECT_EQ(Float(), Amount(15'000));
  card.counter = 2;  // record 2 is not sent; record 3 still names L1 as the last load
  const SettleOfflineReport rep = Settle(k1, {card.Debit(1'000, t1)});
  ASSERT_EQ(rep.returned.size(), 1u);
  EXPECT_EQ(rep.returned[0], LoadId(l2.request.bytes()));
  EXPECT_EQ(n.Balance(n.ana_palma), Amount(40'000 - 10'000));
  EXPECT_EQ(Float(), Amount(9'000));
  EXPECT_EQ(CardOf(card).shadow, Amount(9'000));
}

TEST_F(CardsTest, LoadInferredAppliedFromALaterRecord) {
  const AuthorizeCardLoadCmd a = Authorize(card, 10'000);
  const OfflineReceipt load = card.Load(a);
  const OfflineReceipt debit = card.Debit(3'000, t1);
  // Only the debit arrives: it names the load as the last one, so the load was applied.
  SettleOfflineReport rep = Settle(k1, {debit});
  EXPECT_EQ(rep.receipts[0].from_float, Amount(3'000));
  EXPECT_EQ(n.ledger.FindCardLoad(LoadId(a.request.bytes()))->state, CardLoadState::kApplied);
  EXPECT_EQ(CardOf(card).shadow, Amount(7'000));
  rep = Settle(k1, {load});  // the load record later: confirmed, the shadow unchanged
  EXPECT_EQ(rep.receipts[0].status, ReceiptStatus::kLoadConfirmed);
  EXPECT_EQ(CardOf(card).shadow, Amount(7'000));
}

TEST_F(CardsTest, BlockReturnsPendingLoads) {
  const AuthorizeCardLoadCmd a = Authorize(card, 25'000);
  EXPECT_EQ(n.Balance(n.ana_palma), Amount(15'000));
  const BlockCardCmd b{n.Next(), card.id, "teller", "lost"};
  n.Begin();
  OpResult r = n.ledger.BlockCard(b);
  ASSERT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome);
  EXPECT_EQ(r.legs, 1u);
  EXPECT_EQ(n.ledger.BlockCard(b).outcome, Outcome::kExists);
  EXPECT_EQ(n.ledger.BlockCard({n.Next(), card.id, "teller", "again"}).outcome,
            Outcome::kCardBlocked);
  EXPECT_EQ(n.ledger.BlockCard({n.Next(), card.id, "", "x"}).outcome, Outcome::kInvalidName);
  n.Seal();
  EXPECT_EQ(n.Balance(n.ana_palma), Amount(40'000));
  EXPECT_EQ(Float(), Amount(0));
  EXPECT_EQ(n.ledger.FindCardLoad(LoadId(a.request.bytes()))->state, CardLoadState::kReturned);
  EXPECT_EQ(CardOf(card).block_reason, CardBlockReason::kManual);
  EXPECT_EQ(CardOf(card).block_detail, "teller: lost");
  n.Begin();
  r = n.ledger.AuthorizeCardLoad(LoadCmd(card, 100));
  EXPECT_EQ(r.outcome, Outcome::kCardBlocked);
  n.ledger.AbortBatch();
  ExpectClean();
}

TEST_F(CardsTest, AbortRollsEverythingBack) {
  LoadAndApply(30'000);
  const Amount caio = n.Balance(n.caio_palma);
  const size_t kiosks = n.ledger.kiosks().size();
  SimCard clone = card;
  clone.variant = 1;
  n.Begin();
  const TerminalId t3 = TerminalId::FromParts(0x7e, 3);
  ASSERT_EQ(n.ledger.RegisterKiosk(Kiosk(n.Next(), t3, 3, n.caio_palma)).outcome, Outcome::kOk);
  const CardId c2 = CardId::FromParts(0xCA, 2);
  ASSERT_EQ(n.ledger.RegisterCard(Card(n.Next(), c2, 11, n.ana_palma)).outcome, Outcome::kOk);
  ASSERT_EQ(n.ledger.AuthorizeCardLoad(LoadCmd(card, 5'000)).outcome, Outcome::kOk);
  SettleOfflineReport rep;
  const OfflineReceipt x = card.Debit(20'000, t1), y = clone.Debit(20'000, t1);
  ASSERT_EQ(n.ledger.SettleOffline({k1, {x, y}}, &rep).outcome, Outcome::kOk);
  EXPECT_EQ(rep.blocked.size(), 1u);
  n.ledger.AbortBatch();
  EXPECT_EQ(n.ledger.kiosks().size(), kiosks);
  EXPECT_EQ(n.ledger.FindKioskByTerminal(t3), nullptr);
  EXPECT_EQ(n.ledger.FindCard(c2), nullptr);
  EXPECT_EQ(n.ledger.card_loads().size(), 1u);
  EXPECT_EQ(n.ledger.deny_list().size(), 0u);
  EXPECT_EQ(CardOf(card).status, CardStatus::kActive);
  EXPECT_TRUE(CardOf(card).evidence.empty());
  EXPECT_EQ(CardOf(card).shadow, Amount(30'000));
  EXPECT_EQ(CardOf(card).records, 1u);
  EXPECT_EQ(n.ledger.FindKiosk(k1)->receipts, 0u);
  EXPECT_EQ(n.Balance(n.caio_palma), caio);
  EXPECT_EQ(Float(), Amount(30'000));
  ExpectClean();
  // The same records settle afresh after the abort (the chain forgot them).
  rep = Settle(k1, {x});
  EXPECT_EQ(rep.receipts[0].status, ReceiptStatus::kSettled);
}

TEST_F(CardsTest, RestoreRebuildsTheCardBook) {
  LoadAndApply(30'000);
  SimCard clone = card;
  clone.variant = 1;
  const OfflineReceipt x = card.Debit(20'000, t1), y = clone.Debit(20'000, t1);
  Settle(k1, {x, y});
  SimCard other;
  other.id = CardId::FromParts(0xCA, 3);
  Ok([&](RequestId q) { return n.ledger.RegisterCard(Card(q, other.id, 12, n.ana_palma)); });
  const AuthorizeCardLoadCmd l = Authorize(other, 2'000);
  const OfflineReceipt z = other.Debit(0, t2);  // proves l unapplied
  Settle(k2, {z});
  Authorize(other, 1'000);
  Ok([&](RequestId q) { return n.ledger.BlockCard({q, other.id, "admin", "stolen"}); });
  Ledger restored;
  ASSERT_TRUE(restored.Restore(n.journal.batches).ok());
  ExpectSameLedger(n.ledger, restored);
  EXPECT_TRUE(CheckInvariants(restored).empty()) << FormatFaults(CheckInvariants(restored));
  EXPECT_EQ(restored.FindCardLoad(LoadId(l.request.bytes()))->state, CardLoadState::kReturned);
  // The chains came back too: the same uploads are duplicates on both ledgers.
  for (Ledger* L : {&n.ledger, &restored}) {
    L->BeginBatch(n.clock_ns + 5000);
    SettleOfflineReport rep;
    ASSERT_EQ(L->SettleOffline({k1, {x, y}}, &rep).outcome, Outcome::kOk);
    EXPECT_EQ(rep.duplicates, 2u);
    L->AbortBatch();
  }
}

TEST_F(CardsTest, InvariantCatchesACorruptShadow) {
  LoadAndApply(30'000);
  EXPECT_TRUE(CheckInvariants(n.ledger).empty());
  LedgerTestAccess::MutableCard(n.ledger, card.id).shadow = Amount(29'999);
  const std::vector<Fault> faults = CheckInvariants(n.ledger);
  ASSERT_EQ(faults.size(), 1u) << FormatFaults(faults);
  EXPECT_EQ(faults[0].kind, FaultKind::kCardFloatMismatch);
  EXPECT_EQ(faults[0].id, n.palma.value());
  EXPECT_STREQ(FaultKindName(faults[0].kind), "card_float_mismatch");
}

}  // namespace
}  // namespace ayni
