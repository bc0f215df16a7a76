// ExpectSameLedger: field-by-field equality of two ledgers' whole state, for restore
// tests. Idempotency records are compared by behaviour (a retry answers the same) in the
// tests themselves, since the table is private.
#pragma once

#include <gtest/gtest.h>

#include "clearing/ledger.h"

namespace ayni {

inline void ExpectSameLedger(const Ledger& x, const Ledger& y) {
  EXPECT_EQ(x.national(), y.national());
  EXPECT_EQ(x.batch_sequence(), y.batch_sequence());
  EXPECT_EQ(x.head(), y.head());
  EXPECT_EQ(x.request_count(), y.request_count());
  ASSERT_EQ(x.account_count(), y.account_count());
  for (size_t i = 0; i < x.account_count(); ++i) {
    const Account& a = x.accounts()[i];
    const Account& b = y.accounts()[i];
    const auto fields = [](const Account& c) {
      return std::tuple(c.id, c.bank, c.currency, c.kind, c.owner, c.counterparty, c.status,
                        c.credit_limit, c.ceiling, c.balance, c.debits_posted, c.credits_posted);
    };
    EXPECT_TRUE(fields(a) == fields(b)) << "account " << a.id.value();
  }
  ASSERT_EQ(x.bank_count(), y.bank_count());
  for (size_t i = 0; i < x.bank_count(); ++i) {
    const Bank& a = x.banks()[i];
    const Bank& b = y.banks()[i];
    EXPECT_TRUE(std::tie(a.id, a.code, a.name, a.vault, a.reserve, a.loans, a.fees, a.write_off,
                         a.issued) == std::tie(b.id, b.code, b.name, b.vault, b.reserve, b.loans,
                                               b.fees, b.write_off, b.issued))
        << "bank " << a.code;
    // Due vectors may differ in trailing unset entries only.
    for (size_t k = 1; k < std::max(a.due_from.size(), b.due_from.size()); ++k) {
      const auto at = [](const std::vector<AccountId>& v, size_t j) {
        return j < v.size() ? v[j] : AccountId();
      };
      EXPECT_EQ(at(a.due_from, k), at(b.due_from, k)) << "bank " << a.code << " due_from " << k;
      EXPECT_EQ(at(a.due_to, k), at(b.due_to, k)) << "bank " << a.code << " due_to " << k;
    }
    EXPECT_EQ(x.FindBankByCode(a.code), &a);
    EXPECT_EQ(y.FindBankByCode(b.code), &b);
  }
  ASSERT_EQ(x.currency_count(), y.currency_count());
  for (size_t i = 0; i < x.currency_count(); ++i) {
    const Currency& a = x.currencies()[i];
    const Currency& b = y.currencies()[i];
    EXPECT_TRUE(
        std::tie(a.id, a.code, a.kind, a.scale, a.issuer, a.circle, a.policy.coverage_min_bp,
                 a.policy.redemption_fee_bp, a.policy.default_credit_limit,
                 a.policy.default_ceiling, a.issuance, a.card_float, a.card_losses, a.suspense) ==
        std::tie(b.id, b.code, b.kind, b.scale, b.issuer, b.circle, b.policy.coverage_min_bp,
                 b.policy.redemption_fee_bp, b.policy.default_credit_limit,
                 b.policy.default_ceiling, b.issuance, b.card_float, b.card_losses, b.suspense))
        << "currency " << a.code;
    EXPECT_EQ(y.FindCurrencyByCode(a.code), &b);
  }
  ASSERT_EQ(x.circle_count(), y.circle_count());
  for (size_t i = 0; i < x.circle_count(); ++i) {
    const Circle& a = x.circles()[i];
    const Circle& b = y.circles()[i];
    EXPECT_TRUE(std::tie(a.id, a.bank, a.code, a.name, a.currency, a.members, a.admins) ==
                std::tie(b.id, b.bank, b.code, b.name, b.currency, b.members, b.admins))
        << "circle " << a.code;
  }
  ASSERT_EQ(x.member_count(), y.member_count());
  for (size_t i = 1; i <= x.member_count(); ++i) {
    const Member* a = x.FindMember(MemberId(i));
    const Member* b = y.FindMember(MemberId(i));
    EXPECT_TRUE(std::tie(a->id, a->bank, a->name) == std::tie(b->id, b->bank, b->name));
  }
  ASSERT_EQ(x.loan_products().size(), y.loan_products().size());
  for (size_t i = 0; i < x.loan_products().size(); ++i) {
    const LoanProduct& a = x.loan_products()[i];
    const LoanProduct& b = y.loan_products()[i];
    EXPECT_TRUE(std::tie(a.id, a.bank, a.name, a.currency, a.max_principal, a.monthly_rate_bp,
                         a.instalments, a.period_days, a.grace_days) ==
                std::tie(b.id, b.bank, b.name, b.currency, b.max_principal, b.monthly_rate_bp,
                         b.instalments, b.period_days, b.grace_days))
        << "loan product " << a.id.value();
  }
  ASSERT_EQ(x.groups().size(), y.groups().size());
  for (size_t i = 0; i < x.groups().size(); ++i) {
    const SolidarityGroup& a = x.groups()[i];
    const SolidarityGroup& b = y.groups()[i];
    EXPECT_TRUE(std::tie(a.id, a.bank, a.name, a.members, a.liable) ==
                std::tie(b.id, b.bank, b.name, b.members, b.liable))
        << "group " << a.id.value();
  }
  ASSERT_EQ(x.loans().size(), y.loans().size());
  for (size_t i = 0; i < x.loans().size(); ++i) {
    const Loan& a = x.loans()[i];
    const Loan& b = y.loans()[i];
    EXPECT_TRUE(
        std::tie(a.id, a.request, a.product, a.bank, a.currency, a.member, a.group, a.account,
                 a.principal, a.monthly_rate_bp, a.disbursed_ns, a.schedule, a.repayments,
                 a.principal_repaid, a.interest_paid, a.written_off, a.status) ==
        std::tie(b.id, b.request, b.product, b.bank, b.currency, b.member, b.group, b.account,
                 b.principal, b.monthly_rate_bp, b.disbursed_ns, b.schedule, b.repayments,
                 b.principal_repaid, b.interest_paid, b.written_off, b.status))
        << "loan " << a.id.value();
  }
  ASSERT_EQ(x.kiosks().size(), y.kiosks().size());
  for (size_t i = 0; i < x.kiosks().size(); ++i) {
    const KioskRecord& a = x.kiosks()[i];
    const KioskRecord& b = y.kiosks()[i];
    EXPECT_TRUE(std::tie(a.id, a.terminal, a.public_key, a.merchant, a.bank, a.label, a.request,
                         a.registered_ns, a.receipts, a.max_sequence) ==
                std::tie(b.id, b.terminal, b.public_key, b.merchant, b.bank, b.label, b.request,
                         b.registered_ns, b.receipts, b.max_sequence))
        << "kiosk " << a.id.value();
    EXPECT_EQ(y.FindKioskByTerminal(a.terminal), &b);
  }
  ASSERT_EQ(x.cards().size(), y.cards().size());
  for (size_t i = 0; i < x.cards().size(); ++i) {
    const CardRecord& a = x.cards()[i];
    const CardRecord& b = y.cards()[i];
    EXPECT_TRUE(std::tie(a.id, a.public_key, a.account, a.currency, a.bank, a.limits, a.expiry_s,
                         a.request, a.registered_ns, a.status, a.block_reason, a.block_detail,
                         a.blocked_ns, a.shadow, a.max_counter, a.records, a.evidence) ==
                std::tie(b.id, b.public_key, b.account, b.currency, b.bank, b.limits, b.expiry_s,
                         b.request, b.registered_ns, b.status, b.block_reason, b.block_detail,
                         b.blocked_ns, b.shadow, b.max_counter, b.records, b.evidence))
        << "card " << a.id.ToHex();
    EXPECT_EQ(y.FindCard(a.id), &b);
  }
  ASSERT_EQ(x.card_loads().size(), y.card_loads().size());
  for (size_t i = 0; i < x.card_loads().size(); ++i) {
    const CardLoadRecord& a = x.card_loads()[i];
    const CardLoadRecord& b = y.card_loads()[i];
    EXPECT_TRUE(std::tie(a.id, a.card, a.account, a.amount, a.counter, a.challenge,
                         a.offline_amount_cap, a.offline_count_cap, a.state, a.authorized_ns) ==
                std::tie(b.id, b.card, b.account, b.amount, b.counter, b.challenge,
                         b.offline_amount_cap, b.offline_count_cap, b.state, b.authorized_ns))
        << "load " << a.id.ToHex();
    EXPECT_EQ(y.FindCardLoad(a.id), &b);
  }
  EXPECT_TRUE(std::equal(x.deny_list().begin(), x.deny_list().end(), y.deny_list().begin(),
                         y.deny_list().end()));
  ASSERT_EQ(x.cycles().size(), y.cycles().size());
  for (size_t i = 0; i < x.cycles().size(); ++i) {
    const CycleReport& a = x.cycles()[i];
    const CycleReport& b = y.cycles()[i];
    EXPECT_EQ(a.request, b.request);
    EXPECT_EQ(a.number, b.number);
    EXPECT_EQ(a.timestamp_ns, b.timestamp_ns);
    EXPECT_EQ(a.obligations, b.obligations) << "cycle " << a.number;
    EXPECT_EQ(a.plan.instructions, b.plan.instructions) << "cycle " << a.number;
    EXPECT_EQ(a.plan.bilateral, b.plan.bilateral) << "cycle " << a.number;
    EXPECT_EQ(a.plan.positions, b.plan.positions) << "cycle " << a.number;
    EXPECT_EQ(a.plan.gross_total, b.plan.gross_total);
    EXPECT_EQ(a.plan.liquidity_saved, b.plan.liquidity_saved);
  }
}

}  // namespace ayni
