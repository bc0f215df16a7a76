// libFuzzer target: the C-APDU parser, and the applet behind it.
//
// Input: one byte choosing the starting card (even: issued and loaded; odd: blank), then
// a sequence of commands, each a length byte and that many bytes. Every command goes
// through ParseCommandApdu (a parsed APDU must re-encode to the same bytes) and
// PurseApplet::Process, and after each one the applet's invariants are checked: a
// well-formed R-APDU, the counter moves by at most one, the balance stays within
// [0, balance max], the offline counters within their caps, and no counter is ever signed
// twice with different bytes. A violation aborts (AYNI_CHECK), which libFuzzer reports.
#include <cstddef>
#include <cstdint>
#include <map>

#include "cardio/applet.h"
#include "cardio/channel.h"
#include "cardio/issuer.h"
#include "cardio/purse_client.h"
#include "clearing/check.h"

namespace ayni::cardio {
namespace {

CardState BuildIssued() {
  SeededRandom random(1);
  PurseApplet applet(random);
  AppletChannel channel(applet);
  PurseClient client(channel);
  KeySeed bank_seed;
  bank_seed.fill(0x42);
  const KeyPair bank = KeyPairFromSeed(bank_seed);
  Certificate c;
  c.scheme_id = 1;
  c.card_id = CardId::FromParts(0x0011223344556677, 0x8899aabbccddeeff);
  c.member_account = AccountId(42);
  c.currency = CurrencyId(7);
  c.limits = {Amount(5000), Amount(20000), 10, Amount(100000)};
  c.expiry_s = 1893456000;
  AYNI_CHECK(PersonaliseCard(client, bank, c).ok());
  const LoadTerms terms{Amount(50000), LoadId::FromParts(1, 1), Amount(20000), 10};
  AYNI_CHECK(LoadCard(client, bank, c.card_id, terms).ok());
  return applet.state();
}

const CardState& Issued() {
  static const CardState s = BuildIssued();
  return s;
}

void CheckInvariants(const CardState& before, const CardState& after,
                     std::map<uint32_t, Bytes>& signed_records) {
  AYNI_CHECK(after.counter == before.counter || after.counter == before.counter + 1);
  AYNI_CHECK(!after.balance.negative());
  if (after.certificate) {
    AYNI_CHECK(after.balance <= after.certificate->certificate.limits.balance_max);
  }
  AYNI_CHECK(after.offline_amount <= after.offline_amount_cap);
  AYNI_CHECK(after.offline_count <= after.offline_count_cap);
  if (after.last_record) {
    AYNI_CHECK(after.last_record->record.counter == after.counter);
    const Bytes bytes = EncodeSignedRecord(*after.last_record);
    auto [it, fresh] = signed_records.emplace(after.counter, bytes);
    AYNI_CHECK(fresh || it->second == bytes);
    AYNI_CHECK(
        VerifyRecordSignature(*after.last_record, after.certificate->certificate.card_public_key));
  }
}

}  // namespace
}  // namespace ayni::cardio

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ayni;
  using namespace ayni::cardio;
  const std::span<const uint8_t> input(data, size);
  // The parser alone, over the whole input.
  if (Result<CommandApdu> whole = ParseCommandApdu(input); whole.ok()) {
    AYNI_CHECK(EncodeCommandApdu(*whole) == Bytes(input.begin(), input.end()));
  }
  if (size == 0) return 0;
  SeededRandom random(2);
  PurseApplet applet(random, (data[0] & 1) ? CardState{} : Issued());
  std::map<uint32_t, Bytes> signed_records;
  ByteReader in(input.subspan(1));
  while (in.remaining() > 0) {
    const size_t n = std::min<size_t>(in.U8(), in.remaining());
    const std::span<const uint8_t> command = in.Span(n);
    if (Result<CommandApdu> c = ParseCommandApdu(command); c.ok()) {
      AYNI_CHECK(EncodeCommandApdu(*c) == Bytes(command.begin(), command.end()));
    }
    const CardState before = applet.state();
    const Bytes response = applet.Process(command);
    Result<ResponseApdu> r = ParseResponseApdu(response);
    AYNI_CHECK(r.ok());
    if (r->sw != Sw::kOk) AYNI_CHECK(r->data.empty() && applet.state() == before);
    CheckInvariants(before, applet.state(), signed_records);
  }
  return 0;
}
