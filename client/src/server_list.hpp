// The info servers one `dfd` command may talk to (issue 16): `--server`, `$DFD_SERVER` and the
// login's stored server are each a comma-separated list of base URLs,
// "https://a:9200,https://b:9200". Pure functions, thread-safe.
#pragma once

#include <string>
#include <vector>

namespace dfd::client {

// Splits `text` at commas, trims blanks around each URL and normalizes it (normalize_server in
// api_client.hpp: http:// or https://, no trailing slash); a URL given twice is kept once, in its
// first place. CliError(kUsage) for an empty list, an empty entry ("a,,b") or a bad URL.
std::vector<std::string> parse_server_list(const std::string& text);

// The list written back as parse_server_list reads it ("a,b").
std::string join_server_list(const std::vector<std::string>& servers);

// The entries of `wanted` that are not in `allowed` (both normalized lists), in wanted's order.
// A stored user token is only sent to servers of the list it was obtained with.
std::vector<std::string> servers_outside(const std::vector<std::string>& wanted,
                                         const std::vector<std::string>& allowed);

}  // namespace dfd::client
