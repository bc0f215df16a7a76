// SetoffService (proto/ayni/v1/setoff.proto): invoices and set-off runs over the ledger's
// invoice book (clearing/invoices.h), on Core's plumbing (core.h). Who may call what, and
// how each call's target is resolved, is in docs/roles.md ("Invoices and set-off").
// A dry run is a read on the writer thread (Ledger::DryRunSetoff), never a batch.
// Thread-safety: as every service (services.h).
#pragma once

#include "ayni/v1/setoff.grpc.pb.h"
#include "server/service/core.h"

namespace ayni::server::service {

class SetoffServiceImpl final : public v1::SetoffService::CallbackService {
 public:
  explicit SetoffServiceImpl(const Core& core) : core_(core) {}
  grpc::ServerUnaryReactor* RegisterInvoice(grpc::CallbackServerContext* ctx,
                                            const v1::RegisterInvoiceRequest* req,
                                            v1::RegisterInvoiceReply* reply) override;
  grpc::ServerUnaryReactor* ConfirmInvoice(grpc::CallbackServerContext* ctx,
                                           const v1::ConfirmInvoiceRequest* req,
                                           v1::ConfirmInvoiceReply* reply) override;
  grpc::ServerUnaryReactor* DisputeInvoice(grpc::CallbackServerContext* ctx,
                                           const v1::DisputeInvoiceRequest* req,
                                           v1::DisputeInvoiceReply* reply) override;
  grpc::ServerUnaryReactor* ListInvoices(grpc::CallbackServerContext* ctx,
                                         const v1::ListInvoicesRequest* req,
                                         v1::ListInvoicesReply* reply) override;
  grpc::ServerUnaryReactor* RunSetoff(grpc::CallbackServerContext* ctx,
                                      const v1::RunSetoffRequest* req,
                                      v1::RunSetoffReply* reply) override;
  grpc::ServerUnaryReactor* GetSetoffRun(grpc::CallbackServerContext* ctx,
                                         const v1::GetSetoffRunRequest* req,
                                         v1::GetSetoffRunReply* reply) override;

 private:
  const Core& core_;
};

}  // namespace ayni::server::service
