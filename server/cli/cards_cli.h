// The card and kiosk commands (SPEC §5, §7) over CardService: `kiosk register`,
// `card block|show|deny-list` and `audit cards`. Card and terminal ids are shown in hex;
// amounts as exact decimals at the national scale, which the guaranteed currencies that
// cards hold share. Registering and loading a card needs a card reader: that is
// `ayni-kiosk`, not this CLI.
//
// `audit cards` exits 1 (kExitAuditFault) only when a currency's card float is
// inconsistent (CARD_FLOAT ≠ shadow balances + pending loads); blocked (cloned) cards,
// kiosks with sequence gaps and cards with missing counters are findings, printed on
// stderr as `FINDING: …`, with exit 0 — the server has already acted on them (blocked the
// card, paid the merchant from CARD_LOSSES), so they call for a person to look, not for a
// failed script.
// Not thread-safe (writes to the context's streams).
#pragma once

#include "server/cli/args.h"
#include "server/cli/runner.h"

namespace ayni::cli {

int RunCardCommand(const Command& command, RunContext& ctx);

}  // namespace ayni::cli
