// The ayni.v1 gRPC services of aynid, on the callback API (SPEC §6). Each handler follows
// Core's plumbing (core.h): authenticate, convert, authorize on the writer thread, submit,
// answer after COMMIT. Handlers never block.
// Reads that go to the database (Statement, VerifyJournal) continue on the service's
// reader threads (core.h), never on a gRPC or the writer thread.
// Thread-safety: handlers run on gRPC threads concurrently; all state is in Core.
#pragma once

#include "ayni/v1/audit.grpc.pb.h"
#include "ayni/v1/clearing.grpc.pb.h"
#include "ayni/v1/ledger.grpc.pb.h"
#include "ayni/v1/loans.grpc.pb.h"
#include "ayni/v1/reserves.grpc.pb.h"
#include "ayni/v1/setup.grpc.pb.h"
#include "server/service/arena_allocator.h"
#include "server/service/core.h"

namespace ayni::server::service {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

class LedgerServiceImpl final : public v1::LedgerService::CallbackService {
 public:
  explicit LedgerServiceImpl(const Core& core) : core_(core) {
    SetMessageAllocatorFor_Pay(&pay_messages_);
    SetMessageAllocatorFor_BatchPay(&batch_pay_messages_);
    SetMessageAllocatorFor_GetAccount(&get_account_messages_);
  }
  ServerUnaryReactor* Pay(CallbackServerContext* ctx, const v1::PayRequest* req,
                          v1::PayReply* reply) override;
  ServerUnaryReactor* BatchPay(CallbackServerContext* ctx, const v1::BatchPayRequest* req,
                               v1::BatchPayReply* reply) override;
  ServerUnaryReactor* GetAccount(CallbackServerContext* ctx, const v1::GetAccountRequest* req,
                                 v1::GetAccountReply* reply) override;
  ServerUnaryReactor* ListAccounts(CallbackServerContext* ctx, const v1::ListAccountsRequest* req,
                                   v1::ListAccountsReply* reply) override;
  ServerUnaryReactor* Statement(CallbackServerContext* ctx, const v1::StatementRequest* req,
                                v1::StatementReply* reply) override;

 private:
  const Core& core_;
  // The busiest methods' requests and replies live on a per-call arena.
  ArenaMessageAllocator<v1::PayRequest, v1::PayReply> pay_messages_;
  ArenaMessageAllocator<v1::BatchPayRequest, v1::BatchPayReply> batch_pay_messages_;
  ArenaMessageAllocator<v1::GetAccountRequest, v1::GetAccountReply> get_account_messages_;
};

class ReservesServiceImpl final : public v1::ReservesService::CallbackService {
 public:
  explicit ReservesServiceImpl(const Core& core) : core_(core) {}
  ServerUnaryReactor* Issue(CallbackServerContext* ctx, const v1::IssueRequest* req,
                            v1::IssueReply* reply) override;
  ServerUnaryReactor* Redeem(CallbackServerContext* ctx, const v1::RedeemRequest* req,
                             v1::RedeemReply* reply) override;
  ServerUnaryReactor* FundReserve(CallbackServerContext* ctx, const v1::FundReserveRequest* req,
                                  v1::FundReserveReply* reply) override;
  ServerUnaryReactor* Distribute(CallbackServerContext* ctx, const v1::DistributeRequest* req,
                                 v1::DistributeReply* reply) override;
  ServerUnaryReactor* GetCoverage(CallbackServerContext* ctx, const v1::GetCoverageRequest* req,
                                  v1::GetCoverageReply* reply) override;

 private:
  const Core& core_;
};

class ClearingServiceImpl final : public v1::ClearingService::CallbackService {
 public:
  explicit ClearingServiceImpl(const Core& core) : core_(core) {}
  ServerUnaryReactor* RunInterbankCycle(CallbackServerContext* ctx,
                                        const v1::RunInterbankCycleRequest* req,
                                        v1::RunInterbankCycleReply* reply) override;
  ServerUnaryReactor* GetCycle(CallbackServerContext* ctx, const v1::GetCycleRequest* req,
                               v1::GetCycleReply* reply) override;
  ServerUnaryReactor* ListCycles(CallbackServerContext* ctx, const v1::ListCyclesRequest* req,
                                 v1::ListCyclesReply* reply) override;

 private:
  const Core& core_;
};

class SetupServiceImpl final : public v1::SetupService::CallbackService {
 public:
  explicit SetupServiceImpl(const Core& core) : core_(core) {}
  ServerUnaryReactor* InitDeployment(CallbackServerContext* ctx,
                                     const v1::InitDeploymentRequest* req,
                                     v1::InitDeploymentReply* reply) override;
  ServerUnaryReactor* GetDeployment(CallbackServerContext* ctx, const v1::GetDeploymentRequest* req,
                                    v1::GetDeploymentReply* reply) override;
  ServerUnaryReactor* CreateBank(CallbackServerContext* ctx, const v1::CreateBankRequest* req,
                                 v1::CreateBankReply* reply) override;
  ServerUnaryReactor* ListBanks(CallbackServerContext* ctx, const v1::ListBanksRequest* req,
                                v1::ListBanksReply* reply) override;
  ServerUnaryReactor* CreateCurrency(CallbackServerContext* ctx,
                                     const v1::CreateCurrencyRequest* req,
                                     v1::CreateCurrencyReply* reply) override;
  ServerUnaryReactor* ListCurrencies(CallbackServerContext* ctx,
                                     const v1::ListCurrenciesRequest* req,
                                     v1::ListCurrenciesReply* reply) override;
  ServerUnaryReactor* CreateCircle(CallbackServerContext* ctx, const v1::CreateCircleRequest* req,
                                   v1::CreateCircleReply* reply) override;
  ServerUnaryReactor* ListCircles(CallbackServerContext* ctx, const v1::ListCirclesRequest* req,
                                  v1::ListCirclesReply* reply) override;
  ServerUnaryReactor* CreateMember(CallbackServerContext* ctx, const v1::CreateMemberRequest* req,
                                   v1::CreateMemberReply* reply) override;
  ServerUnaryReactor* AddCircleMember(CallbackServerContext* ctx,
                                      const v1::AddCircleMemberRequest* req,
                                      v1::AddCircleMemberReply* reply) override;
  ServerUnaryReactor* OpenAccount(CallbackServerContext* ctx, const v1::OpenAccountRequest* req,
                                  v1::OpenAccountReply* reply) override;
  ServerUnaryReactor* SetAccountStatus(CallbackServerContext* ctx,
                                       const v1::SetAccountStatusRequest* req,
                                       v1::SetAccountStatusReply* reply) override;
  ServerUnaryReactor* SetAccountLimits(CallbackServerContext* ctx,
                                       const v1::SetAccountLimitsRequest* req,
                                       v1::SetAccountLimitsReply* reply) override;
  ServerUnaryReactor* CreateApiKey(CallbackServerContext* ctx, const v1::CreateApiKeyRequest* req,
                                   v1::CreateApiKeyReply* reply) override;
  ServerUnaryReactor* RevokeApiKey(CallbackServerContext* ctx, const v1::RevokeApiKeyRequest* req,
                                   v1::RevokeApiKeyReply* reply) override;
  ServerUnaryReactor* ListApiKeys(CallbackServerContext* ctx, const v1::ListApiKeysRequest* req,
                                  v1::ListApiKeysReply* reply) override;

 private:
  const Core& core_;
};

class AuditServiceImpl final : public v1::AuditService::CallbackService {
 public:
  explicit AuditServiceImpl(const Core& core) : core_(core) {}
  ServerUnaryReactor* ReserveAudit(CallbackServerContext* ctx, const v1::ReserveAuditRequest* req,
                                   v1::ReserveAuditReply* reply) override;
  ServerUnaryReactor* VerifyJournal(CallbackServerContext* ctx,
                                    const v1::VerifyJournalRequest* req,
                                    v1::VerifyJournalReply* reply) override;

 private:
  const Core& core_;
};

class LoanServiceImpl final : public v1::LoanService::CallbackService {
 public:
  explicit LoanServiceImpl(const Core& core) : core_(core) {}
  ServerUnaryReactor* CreateLoanProduct(CallbackServerContext* ctx,
                                        const v1::CreateLoanProductRequest* req,
                                        v1::CreateLoanProductReply* reply) override;
  ServerUnaryReactor* ListLoanProducts(CallbackServerContext* ctx,
                                       const v1::ListLoanProductsRequest* req,
                                       v1::ListLoanProductsReply* reply) override;
  ServerUnaryReactor* CreateSolidarityGroup(CallbackServerContext* ctx,
                                            const v1::CreateSolidarityGroupRequest* req,
                                            v1::CreateSolidarityGroupReply* reply) override;
  ServerUnaryReactor* DisburseLoan(CallbackServerContext* ctx, const v1::DisburseLoanRequest* req,
                                   v1::DisburseLoanReply* reply) override;
  ServerUnaryReactor* RepayLoan(CallbackServerContext* ctx, const v1::RepayLoanRequest* req,
                                v1::RepayLoanReply* reply) override;
  ServerUnaryReactor* WriteOffLoan(CallbackServerContext* ctx, const v1::WriteOffLoanRequest* req,
                                   v1::WriteOffLoanReply* reply) override;
  ServerUnaryReactor* GetLoan(CallbackServerContext* ctx, const v1::GetLoanRequest* req,
                              v1::GetLoanReply* reply) override;
  ServerUnaryReactor* ListLoans(CallbackServerContext* ctx, const v1::ListLoansRequest* req,
                                v1::ListLoansReply* reply) override;
  ServerUnaryReactor* GetPortfolio(CallbackServerContext* ctx, const v1::GetPortfolioRequest* req,
                                   v1::GetPortfolioReply* reply) override;

 private:
  const Core& core_;
};

// Paging helpers shared by the list RPCs: page_size 0 → 100, 1 … 1000 else
// INVALID_ARGUMENT; a page token is the decimal id to continue after.
Result<uint32_t> PageSize(uint32_t page_size);
Result<uint64_t> PageAfter(const std::string& token);

}  // namespace ayni::server::service
