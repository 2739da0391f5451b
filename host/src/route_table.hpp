// The host's HTTP route table (dfd::HttpRoutes): patterns with ":name" segments, matched by the
// control plane. Independent of Pistache so it can be tested alone.
//
// Thread-safety: add() runs on the main thread before freeze(); match() runs on HTTP worker
// threads after freeze() (the server starts its threads after freeze(), which orders them).
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "dfd/host_services.hpp"

namespace dfd::host {

class RouteTable final : public HttpRoutes {
 public:
  // kInvalidArgument for a malformed pattern, kAlreadyExists for a duplicate (same method, same
  // shape), kFailedPrecondition after freeze().
  Status add(std::string_view method, std::string_view pattern, HttpHandler handler) override;
  // No route may be added afterwards.
  void freeze() noexcept { frozen_.store(true); }
  // Drops every handler. Handlers are code of plugin libraries: call this after the server has
  // stopped and before the plugins are unloaded.
  void clear() noexcept { routes_.clear(); }

  struct Match {
    int status = 404;  // 200 (found), 404 (no such path), 405 (path, other method)
    const HttpHandler* handler = nullptr;
    std::string pattern;                        // the matched pattern ("/v1/files/:id") for metrics
    std::map<std::string, std::string> params;  // percent-decoded
    std::vector<std::string> allow;             // methods registered for the path (for 405)
  };
  // The route for `method` and `path`; literal segments win over ":name" segments.
  Match match(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // ":name" or literal
    HttpHandler handler;
  };
  std::vector<Route> routes_;
  std::atomic<bool> frozen_{false};
};

// Percent-decodes `s` ('+' becomes a space when `plus_is_space`, as in query strings); malformed
// escapes are kept as they are.
std::string percent_decode(std::string_view s, bool plus_is_space);

// Splits "/a/b/" into {"a", "b"} (empty segments dropped).
std::vector<std::string> split_path(std::string_view path);

}  // namespace dfd::host
