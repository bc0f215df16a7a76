// CardService (proto/ayni/v1/cards.proto, SPEC §5): kiosks and cards over the ledger's card
// book (clearing/cards.h), on Core's plumbing (core.h). Who may call what, and how each
// call's target is resolved, is in docs/roles.md ("Cards and kiosks").
//
// Cryptography stays off the writer thread: the writer only looks keys up and applies
// commands; Ed25519 verification (card load requests, kiosk batch signatures, every
// offline record) and signing (certificates, load tokens, bank keys for the deny-list)
// run on ServiceContext::card_pool, a kiosk batch's records split across its threads.
//
//   SubmitOfflineBatch:
//   gRPC thread:   sizes checked, records parsed (api/card_convert.h)
//   writer thread: the batch's kiosk authorized; kiosk key and card keys copied out
//   pool threads:  kiosk batch signature ‖ card signatures, in parallel chunks
//   writer thread: SettleOffline with the verified receipts (alone in its batch)
//   writer thread: the ledger's results merged with the refused records, in input order
//
// Thread-safety: as every service (services.h).
#pragma once

#include "ayni/v1/cards.grpc.pb.h"
#include "server/service/core.h"

namespace ayni::server::service {

class CardServiceImpl final : public v1::CardService::CallbackService {
 public:
  explicit CardServiceImpl(const Core& core) : core_(core) {}
  grpc::ServerUnaryReactor* RegisterKiosk(grpc::CallbackServerContext* ctx,
                                          const v1::RegisterKioskRequest* req,
                                          v1::RegisterKioskReply* reply) override;
  grpc::ServerUnaryReactor* RegisterCard(grpc::CallbackServerContext* ctx,
                                         const v1::RegisterCardRequest* req,
                                         v1::RegisterCardReply* reply) override;
  grpc::ServerUnaryReactor* AuthorizeLoad(grpc::CallbackServerContext* ctx,
                                          const v1::AuthorizeLoadRequest* req,
                                          v1::AuthorizeLoadReply* reply) override;
  grpc::ServerUnaryReactor* BlockCard(grpc::CallbackServerContext* ctx,
                                      const v1::BlockCardRequest* req,
                                      v1::BlockCardReply* reply) override;
  grpc::ServerUnaryReactor* SubmitOfflineBatch(grpc::CallbackServerContext* ctx,
                                               const v1::SubmitOfflineBatchRequest* req,
                                               v1::SubmitOfflineBatchReply* reply) override;
  grpc::ServerUnaryReactor* GetDenyList(grpc::CallbackServerContext* ctx,
                                        const v1::GetDenyListRequest* req,
                                        v1::GetDenyListReply* reply) override;
  grpc::ServerUnaryReactor* GetCard(grpc::CallbackServerContext* ctx,
                                    const v1::GetCardRequest* req,
                                    v1::GetCardReply* reply) override;
  grpc::ServerUnaryReactor* CardAudit(grpc::CallbackServerContext* ctx,
                                      const v1::CardAuditRequest* req,
                                      v1::CardAuditReply* reply) override;

 private:
  const Core& core_;
};

}  // namespace ayni::server::service
