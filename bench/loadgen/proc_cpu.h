// CPU time of processes and of the whole machine, read from Linux's /proc, so that the
// load generator can say where the CPU of a run went (issue 5: "where a target is not
// reached, the note says what bounds it"). Clock ticks (sysconf(_SC_CLK_TCK), 100 a second
// here), so a figure is only as fine as 10 ms: take windows of seconds.
//
// A process tree's ticks are the process's own user + system time, the time of its
// children it has reaped (cutime + cstime), and the time of the children still alive.
// That counts every PostgreSQL backend once, whether it lives through a window, starts in
// it or exits in it (the postmaster reaps its backends), provided the window's two
// readings are taken of the same root. Grandchildren that are still alive are not counted
// (PostgreSQL's processes are all children of the postmaster; aynid's are threads).
//
// Pure parsers plus two readers; no state, thread-safe.
#pragma once

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace ayni::bench {

struct StatTicks {
  int64_t ppid = 0;
  uint64_t own = 0;       // utime + stime
  uint64_t children = 0;  // cutime + cstime: reaped children
};

// One /proc/PID/stat line. The command name (field 2) is in parentheses and may hold
// spaces and ')', so the fields are counted after the last ')'.
inline std::optional<StatTicks> ParseStat(std::string_view line) {
  const size_t close = line.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::vector<std::string_view> f;  // f[0] is field 3 (state)
  size_t i = close + 1;
  while (i < line.size() && f.size() < 15) {
    while (i < line.size() && line[i] == ' ') ++i;
    const size_t j = line.find(' ', i);
    const size_t end = j == std::string_view::npos ? line.size() : j;
    if (end > i) f.push_back(line.substr(i, end - i));
    i = end;
  }
  if (f.size() < 15) return std::nullopt;
  auto num = [](std::string_view s, auto* out) {
    if (s.ends_with('\n')) s.remove_suffix(1);
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return ec == std::errc() && p == s.data() + s.size();
  };
  StatTicks t;
  uint64_t v[4];
  if (!num(f[1], &t.ppid)) return std::nullopt;
  for (int k = 0; k < 4; ++k) {
    if (!num(f[11 + k], &v[k])) return std::nullopt;  // fields 14–17
  }
  t.own = v[0] + v[1];
  t.children = v[2] + v[3];
  return t;
}

// The first line of /proc/stat ("cpu  user nice system idle iowait irq softirq steal …"):
// ticks the machine's CPUs spent on anything but idle and iowait, summed over CPUs.
inline std::optional<uint64_t> ParseMachineBusy(std::string_view proc_stat) {
  if (!proc_stat.starts_with("cpu ")) return std::nullopt;
  std::istringstream in{std::string(proc_stat.substr(4, proc_stat.find('\n') - 4))};
  uint64_t v[8];
  for (uint64_t& x : v) {
    if (!(in >> x)) return std::nullopt;
  }
  return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];  // user nice system irq softirq steal
}

inline std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Ticks of pid's tree (above); nullopt when pid does not exist.
inline std::optional<uint64_t> ProcessTreeTicks(int64_t pid) {
  const auto self = ReadSmallFile("/proc/" + std::to_string(pid) + "/stat");
  const std::optional<StatTicks> root = self ? ParseStat(*self) : std::nullopt;
  if (!root) return std::nullopt;
  uint64_t total = root->own + root->children;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto line = ReadSmallFile(e.path().string() + "/stat");  // gone since: skip
    const std::optional<StatTicks> t = line ? ParseStat(*line) : std::nullopt;
    if (t && t->ppid == pid) total += t->own + t->children;
  }
  return total;
}

inline std::optional<uint64_t> MachineBusyTicks() {
  const auto s = ReadSmallFile("/proc/stat");
  return s ? ParseMachineBusy(*s) : std::nullopt;
}

}  // namespace ayni::bench
