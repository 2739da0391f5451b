#include "util.hpp"

#include <cctype>
#include <cstdint>
#include <cstdio>

namespace dfd::client {

std::string human_size(std::uint64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 6) {
    v /= 1024.0;
    ++u;
  }
  // Rounding may reach 1024.0 (e.g. 1048575 B -> "1024.0 KiB"); move up a unit instead.
  if (v >= 1023.95 && u < 6) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string human_rate(double bytes_per_s) {
  if (!(bytes_per_s > 0)) return "0 B/s";
  return human_size(static_cast<std::uint64_t>(bytes_per_s)) + "/s";
}

std::string human_duration(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  auto s = static_cast<std::uint64_t>(seconds + 0.5);
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>((s / 60) % 60));
  }
  return buf;
}

namespace {
void skip_spaces(std::string_view& s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
}
bool parse_u64(std::string_view& s, std::uint64_t& out) {
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s.front()))) return false;
  std::uint64_t v = 0;
  while (!s.empty() && std::isdigit(static_cast<unsigned char>(s.front()))) {
    unsigned d = static_cast<unsigned>(s.front() - '0');
    if (v > (UINT64_MAX - d) / 10) return false;  // overflow
    v = v * 10 + d;
    s.remove_prefix(1);
  }
  out = v;
  return true;
}
}  // namespace

std::optional<ContentRange> parse_content_range(std::string_view s) {
  skip_spaces(s);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  if (s.size() < 6 || lower(s.substr(0, 5)) != "bytes") return std::nullopt;
  s.remove_prefix(5);
  if (s.empty() || (s.front() != ' ' && s.front() != '\t')) return std::nullopt;
  skip_spaces(s);
  ContentRange r;
  if (!parse_u64(s, r.first)) return std::nullopt;
  if (s.empty() || s.front() != '-') return std::nullopt;
  s.remove_prefix(1);
  if (!parse_u64(s, r.last)) return std::nullopt;
  if (s.empty() || s.front() != '/') return std::nullopt;
  s.remove_prefix(1);
  if (s == "*") {
    r.total = std::nullopt;
  } else {
    std::uint64_t t = 0;
    if (!parse_u64(s, t) || !s.empty()) return std::nullopt;
    if (r.last >= t) return std::nullopt;
    r.total = t;
  }
  if (r.last < r.first) return std::nullopt;
  return r;
}

std::string to_hex(const unsigned char* data, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 15];
  }
  return out;
}

bool is_hex(std::string_view s) {
  if (s.empty() || s.size() % 2) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string short_digest(std::string_view hex) {
  return std::string(hex.substr(0, 12));
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace dfd::client
