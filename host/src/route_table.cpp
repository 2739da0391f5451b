#include "route_table.hpp"

#include <algorithm>

namespace dfd::host {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string percent_decode(std::string_view s, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string o;
  o.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      o += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      o += ' ';
    } else {
      o += s[i];
    }
  }
  return o;
}

Status RouteTable::add(std::string_view method, std::string_view pattern, HttpHandler handler) {
  if (frozen_.load()) {
    return Status::FailedPrecondition("routes can only be added from Plugin::start(): " +
                                      std::string(method) + " " + std::string(pattern));
  }
  if (pattern.empty() || pattern[0] != '/') {
    return Status::InvalidArgument("route pattern must start with '/': '" + std::string(pattern) +
                                   "'");
  }
  if (method.empty() || !handler) {
    return Status::InvalidArgument("route needs a method and a handler: '" + std::string(pattern) +
                                   "'");
  }
  Route r{std::string(method), std::string(pattern), split_path(pattern), std::move(handler)};
  std::transform(r.method.begin(), r.method.end(), r.method.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (const auto& s : r.segments) {
    if (s == ":") return Status::InvalidArgument("empty parameter name in '" + r.pattern + "'");
  }
  for (const auto& o : routes_) {
    if (o.method != r.method || o.segments.size() != r.segments.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < r.segments.size() && same; ++i) {
      bool p1 = o.segments[i][0] == ':', p2 = r.segments[i][0] == ':';
      same = p1 == p2 && (p1 || o.segments[i] == r.segments[i]);
    }
    if (same) {
      return Status::AlreadyExists("route " + r.method + " " + r.pattern + " clashes with " +
                                   o.pattern);
    }
  }
  routes_.push_back(std::move(r));
  return Status::Ok();
}

RouteTable::Match RouteTable::match(std::string_view method, std::string_view path) const {
  Match m;
  std::vector<std::string> segs = split_path(path);
  int best_literals = -1;
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    int literals = 0;
    bool ok = true;
    for (std::size_t i = 0; i < segs.size() && ok; ++i) {
      if (r.segments[i][0] == ':') continue;
      ok = r.segments[i] == segs[i];
      ++literals;
    }
    if (!ok) continue;
    if (r.method != method) {
      if (std::find(m.allow.begin(), m.allow.end(), r.method) == m.allow.end()) {
        m.allow.push_back(r.method);
      }
      if (m.status == 404) m.status = 405;
      continue;
    }
    if (literals <= best_literals) continue;
    best_literals = literals;
    m.status = 200;
    m.handler = &r.handler;
    m.pattern = r.pattern;
    m.params.clear();
    for (std::size_t i = 0; i < segs.size(); ++i) {
      if (r.segments[i][0] == ':')
        m.params[r.segments[i].substr(1)] = percent_decode(segs[i], false);
    }
  }
  return m;
}

}  // namespace dfd::host
