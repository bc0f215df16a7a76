// A 128-bit integer for exact intermediate money arithmetic (coverage ratios, sums of many
// int64 balances). GCC/Clang extension; named once here so -Wpedantic stays quiet.
#pragma once

namespace ayni {
__extension__ typedef __int128 Int128;
}  // namespace ayni
