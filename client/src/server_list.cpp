#include "server_list.hpp"

#include <algorithm>

#include "api_client.hpp"
#include "util.hpp"

namespace dfd::client {

std::vector<std::string> parse_server_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    auto first = item.find_first_not_of(" \t");
    auto last = item.find_last_not_of(" \t");
    item = first == std::string::npos ? "" : item.substr(first, last - first + 1);
    if (item.empty())
      throw CliError(exit_code::kUsage, "empty server URL in the list '" + printable(text) +
                                            "' (give URL or URL1,URL2,...)");
    std::string url = normalize_server(item);
    if (std::find(out.begin(), out.end(), url) == out.end()) out.push_back(url);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string join_server_list(const std::vector<std::string>& servers) {
  std::string out;
  for (const auto& s : servers) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> servers_outside(const std::vector<std::string>& wanted,
                                         const std::vector<std::string>& allowed) {
  std::vector<std::string> out;
  for (const auto& w : wanted)
    if (std::find(allowed.begin(), allowed.end(), w) == allowed.end()) out.push_back(w);
  return out;
}

}  // namespace dfd::client
