// The purse through the real stack: libpcsclite → pcscd → vpcd → ayni-vcard, inside the
// private namespace that card_env.sh sets up (label card). The test starts and kills
// ayni-vcard itself: killing it is a card removal, restarting it a re-insertion.
//
// Environment: AYNI_VCARD (path of ayni-vcard), AYNI_CARD_LOG_DIR (scratch directory,
// set by card_env.sh). The test fails, never skips, when they are missing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "cardio/pcsc/pcsc_reader.h"
#include "cardio/purse_client.h"
#include "clearing/hash.h"
#include "tests/cardio/card_fixture.h"
#include "tests/cardio/virtual_card.h"

namespace ayni::cardio {
namespace {

using testing::Env;
using testing::VirtualCard;

constexpr const char* kReader = "Virtual PCD 00 00";
constexpr int kCardWaitMs = 15000;

// Runs ayni-vcard with `args`; returns its exit code and stdout.
std::pair<int, std::string> RunCli(const std::vector<std::string>& args) {
  std::string cmd = Env("AYNI_VCARD");
  for (const std::string& a : args) cmd += " '" + a + "'";
  FILE* p = popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  std::string out;
  char buf[256];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  const int status = p ? pclose(p) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class PcscCardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Env("AYNI_VCARD").empty()) << "AYNI_VCARD must name ayni-vcard";
    ASSERT_FALSE(Env("AYNI_CARD_LOG_DIR").empty()) << "run under tests/cardio/card_env.sh";
    dir_ = Env("AYNI_CARD_LOG_DIR");
    auto reader = PcscReader::Open();
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    reader_ = std::move(reader).value();
    // pcscd notices a removal by polling: start every test with an empty reader.
    const Status empty = reader_->WaitForRemoval(kReader, kCardWaitMs);
    ASSERT_TRUE(empty.ok()) << empty.ToString();
  }

  // Waits for the card, connects and selects the applet.
  void ConnectAndSelect(PurseClient& client) {
    Status st = reader_->WaitForCard(kReader, kCardWaitMs);
    ASSERT_TRUE(st.ok()) << st.ToString();
    st = reader_->Connect(kReader);
    ASSERT_TRUE(st.ok()) << st.ToString();
    auto sel = client.Select();
    ASSERT_TRUE(sel.ok()) << sel.status().ToString();
    ASSERT_EQ(sel->sw, Sw::kOk) << SwName(sel->sw);
  }

  // keygen + bank-issued certificate + install, all through the ayni-vcard CLI.
  SignedCertificate PersonaliseWithCli(const std::string& state) {
    std::remove(state.c_str());
    auto [code, out] =
        RunCli({"--state", state, "keygen", "--card-id", testing::TestCardId().ToHex()});
    EXPECT_EQ(code, 0) << out;
    EXPECT_EQ(out.size(), 65u) << out;  // 64 hex digits and a newline
    PublicKey card_key{};
    for (size_t i = 0; i < 32 && out.size() >= 64; ++i) {
      card_key[i] = static_cast<uint8_t>(std::stoi(out.substr(2 * i, 2), nullptr, 16));
    }
    const SignedCertificate cert =
        IssueCertificate(testing::TestCertificate(testing::TestCardId(), card_key), bank_);
    const std::string cert_file = dir_ + "/certificate.hex";
    std::ofstream(cert_file) << HexOf(EncodeSignedCertificate(cert)) << "\n";
    auto [icode, iout] = RunCli({"--state", state, "install", "--bank-key", HexOf(bank_.public_key),
                                 "--certificate", cert_file});
    EXPECT_EQ(icode, 0) << iout;
    // Issued: personalisation from the command line is refused from now on (exit 3).
    EXPECT_EQ(
        RunCli({"--state", state, "keygen", "--card-id", "00000000000000000000000000000001"}).first,
        3);
    EXPECT_EQ(RunCli({"--state", state, "install", "--bank-key", HexOf(bank_.public_key),
                      "--certificate", cert_file})
                  .first,
              3);
    return cert;
  }

  KeyPair bank_ = testing::TestBank();
  std::string dir_;
  std::unique_ptr<PcscReader> reader_;
};

TEST_F(PcscCardTest, ListsTheVirtualReaders) {
  auto readers = reader_->ListReaders();
  ASSERT_TRUE(readers.ok()) << readers.status().ToString();
  ASSERT_FALSE(readers->empty());
  EXPECT_EQ(readers->front(), kReader);
  // No card yet: waiting times out with a clear error, and so does a transmit.
  const Status st = reader_->WaitForCard(kReader, 300);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_FALSE(reader_->Transmit(Bytes{0x80, 0x5C, 0, 0, 0}).ok());
  EXPECT_EQ(reader_->WaitForCard("No Such Reader 00 00", 300).code(), StatusCode::kNotFound);
}

TEST_F(PcscCardTest, PayRemoveReinsertAndRecover) {
  const std::string state = dir_ + "/card.state";
  const SignedCertificate cert = PersonaliseWithCli(state);
  PurseClient client(*reader_);
  VirtualCard card(state);
  card.Insert();
  ConnectAndSelect(client);

  // The kiosk's offline checks of the card.
  auto data = client.GetCardData();
  ASSERT_TRUE(data.ok() && data->ok());
  EXPECT_TRUE(VerifyCardData(*data->value, bank_.public_key, testing::kNow).ok());
  EXPECT_EQ(data->value->certificate, cert);

  // A load at the bank, then the balance.
  auto load =
      client.CreditLoad(testing::TokenFor(client, bank_, Amount(10000), testing::LoadNumber(1)));
  ASSERT_TRUE(load.ok() && load->ok());
  auto balance = client.GetBalance();
  ASSERT_TRUE(balance.ok() && balance->ok());
  EXPECT_EQ(balance->value->balance, Amount(10000));

  // A payment.
  const PurchaseRequest p = testing::Purchase(Amount(1250), 1);
  auto quote = client.InitializePurchase(p);
  ASSERT_TRUE(quote.ok() && quote->ok());
  auto debit = client.Debit();
  ASSERT_TRUE(debit.ok() && debit->ok());
  EXPECT_TRUE(CheckDebitMatches(*debit->value, p, *quote->value).ok());
  EXPECT_TRUE(CheckRecordAgainstCertificate(*debit->value, cert.certificate).ok());
  // A refusal travels as a status word, not an error.
  auto too_much = client.InitializePurchase(testing::Purchase(Amount(5001), 2));
  ASSERT_TRUE(too_much.ok());
  EXPECT_EQ(too_much->sw, Sw::kLimitExceeded);

  // Removal: the next exchange fails with a clear error and the session is over.
  card.Kill();
  auto gone = client.GetBalance();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kUnavailable) << gone.status().ToString();
  EXPECT_FALSE(reader_->connected());
  EXPECT_TRUE(reader_->WaitForRemoval(kReader, kCardWaitMs).ok());

  // Re-insertion: the card kept its state; GET LAST RECORD returns the payment.
  card.Insert();
  ConnectAndSelect(client);
  auto last = client.GetLastRecord();
  ASSERT_TRUE(last.ok() && last->ok());
  EXPECT_EQ(EncodeSignedRecord(*last->value), EncodeSignedRecord(*debit->value));
  auto after = client.GetBalance();
  ASSERT_TRUE(after.ok() && after->ok());
  EXPECT_EQ(after->value->balance, Amount(8750));
  EXPECT_EQ(card.Stop(), 0);
}

TEST_F(PcscCardTest, CardPulledAfterSigningIsRecoveredWithGetLastRecord) {
  const std::string state = dir_ + "/pulled.state";
  const SignedCertificate cert = PersonaliseWithCli(state);
  PurseClient client(*reader_);
  {
    VirtualCard card(state);
    card.Insert();
    ConnectAndSelect(client);
    auto load =
        client.CreditLoad(testing::TokenFor(client, bank_, Amount(3000), testing::LoadNumber(1)));
    ASSERT_TRUE(load.ok() && load->ok());
    EXPECT_EQ(card.Stop(), 0);
  }
  ASSERT_TRUE(reader_->WaitForRemoval(kReader, kCardWaitMs).ok());
  reader_->Disconnect();

  // This card signs the DEBIT, persists it, and is pulled before it answers.
  VirtualCard card(state, {"--pull-after", "54"});
  card.Insert();
  ConnectAndSelect(client);
  const PurchaseRequest p = testing::Purchase(Amount(700), 7);
  auto quote = client.InitializePurchase(p);
  ASSERT_TRUE(quote.ok() && quote->ok());
  auto debit = client.Debit();
  ASSERT_FALSE(debit.ok());  // the kiosk does not know whether it was paid
  EXPECT_EQ(debit.status().code(), StatusCode::kUnavailable) << debit.status().ToString();
  EXPECT_EQ(card.WaitExit(), 0);
  EXPECT_FALSE(reader_->connected());
  ASSERT_TRUE(reader_->WaitForRemoval(kReader, kCardWaitMs).ok());

  VirtualCard again(state);
  again.Insert();
  ConnectAndSelect(client);
  auto last = client.GetLastRecord();
  ASSERT_TRUE(last.ok() && last->ok());
  EXPECT_TRUE(CheckDebitMatches(*last->value, p, *quote->value).ok());
  EXPECT_TRUE(CheckRecordAgainstCertificate(*last->value, cert.certificate).ok());
  EXPECT_EQ(client.GetBalance()->value->balance, Amount(2300));
  EXPECT_EQ(again.Stop(), 0);
}

}  // namespace
}  // namespace ayni::cardio
