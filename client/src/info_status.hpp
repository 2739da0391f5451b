// What an info-server answer that is not 2xx means for `dfd` (issue 13: exit codes that are
// consistent). Pure functions, no I/O; InfoApi (api_client.cpp) is the only caller. (A file
// server's answer to a chunk request follows another rule: http_fault.hpp.)
//
//   401, 403 -> kAuth        (not logged in, token expired or refused, no permission)
//   404      -> kNotFound    (no such file)
//   429      -> kThrottled   (login throttled, manifest rate limit), with the Retry-After
//   other    -> kServer      (a 4xx we did not expect, or a 5xx; unreachable servers and 5xx from
//                             every server of the list are InfoUnavailable, also kServer)
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dfd::client {

int exit_code_for_info_status(long status);

// The seconds of a Retry-After header value in the delta-seconds form ("30"); nullopt for the
// HTTP-date form and for anything malformed (dfd's servers send seconds).
std::optional<long> parse_retry_after(std::string_view value);

// The message of that error. `context` names the call ("login failed", "file 7"), `server_message`
// is the server's own (printable, may be empty). A 429 says when to try again:
//   "login throttled: try again in 30 s (too many failed logins)"  (context "login failed")
//   "file 7: throttled: try again in 5 s (...)"                    (other contexts)
// Anything else: "<context>: <server message>", or "<context>: HTTP <status>" without one.
std::string info_error_message(const std::string& context, long status,
                               const std::string& server_message, std::optional<long> retry_after);

}  // namespace dfd::client
