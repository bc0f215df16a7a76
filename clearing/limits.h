// Named limits. Everything has a bound (TIGER_STYLE); each says why it is what it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ayni {

// One BatchPay request (SPEC/issue: 8,190 payments) must fit in one ledger batch, and
// each payment can post up to three legs.
inline constexpr size_t kBatchRequestsMax = 8190;
// Money operations never take a batch past this. A clearing cycle is the exception: it
// posts as one group of at most kBanksMax − 1 settlements plus one reversal per ordered
// pair of banks, however many that is, because a cycle is all-or-nothing by definition.
inline constexpr size_t kBatchTransfersMax = kBatchRequestsMax * 3;
// A memo is a short human note, not a document; keeps journal rows small.
inline constexpr size_t kMemoBytesMax = 140;
// Codes ("PALMA", "BANCO_PALMAS") are identifiers shown in tables and reports.
inline constexpr size_t kCodeBytesMin = 1;
inline constexpr size_t kCodeBytesMax = 16;
// Names are for people; long enough for "Banco Comunitário de Desenvolvimento ...".
inline constexpr size_t kNameBytesMax = 120;
// A reason for a logged administrative change (limits, freezes).
inline constexpr size_t kReasonBytesMax = 200;
// Basis points: coverage up to 1000% (over-collateralised policies), fees up to 100%.
inline constexpr int32_t kCoverageBpMax = 100000;
inline constexpr int32_t kFeeBpMax = 10000;
// Banks per deployment: DUE accounts grow with n², and the clearing target is 200 banks.
inline constexpr size_t kBanksMax = 1000;
// Dense-id tables are vectors; this bounds their memory (≈ 100 bytes per account).
inline constexpr size_t kAccountsMax = 50'000'000;
inline constexpr size_t kMembersMax = 50'000'000;
inline constexpr size_t kCurrenciesMax = 10'000;
inline constexpr size_t kCirclesMax = 10'000;
// National currency scale must be a power of ten; ISO 4217 currencies have 0–3 digits,
// community currencies may use more, up to 10^9.
inline constexpr int64_t kScaleMax = 1'000'000'000;
// Invoices in one set-off run. LEMON indexes arcs with int, and the solver keeps about
// 150 bytes per invoice: 10 M invoices is ≈ 1.5 GiB, 100× the SPEC §9 target of 100k.
inline constexpr size_t kSetoffInvoicesMax = 10'000'000;

// Microcredit (SPEC §3). The policy cap on a loan product's monthly interest: 1% a month,
// the deployment-wide limit solidarity lending commits to (SPEC: "capped by policy").
inline constexpr int32_t kLoanMonthlyRateBpMax = 100;
// Up to ten years of monthly instalments, or two years of weekly ones.
inline constexpr int32_t kLoanInstalmentsMax = 120;
// A period of one day (daily market vendors) up to one year (harvest cycles).
inline constexpr int32_t kLoanPeriodDaysMin = 1;
inline constexpr int32_t kLoanPeriodDaysMax = 366;
// Grace before the first period starts counting: up to one year (a harvest).
inline constexpr int32_t kLoanGraceDaysMax = 366;
// Solidarity groups: small enough that members know each other, large enough to share
// the risk (the 3–10 of issue 7); joint liability needs at least two liable members.
inline constexpr size_t kGroupMembersMin = 3;
inline constexpr size_t kGroupMembersMax = 10;
inline constexpr size_t kGroupLiableMin = 2;
// Dense-id tables are vectors; loans carry their schedule (≤ 120 instalments).
inline constexpr size_t kLoanProductsMax = 100'000;
inline constexpr size_t kGroupsMax = 10'000'000;
inline constexpr size_t kLoansMax = 10'000'000;

// The name and reason rules every command shares (ledger.cc): 1 … kNameBytesMax or
// kReasonBytesMax bytes, no control characters.
bool ValidName(std::string_view s);
bool ValidReason(std::string_view s);

}  // namespace ayni
