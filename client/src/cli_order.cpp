#include "cli_order.hpp"

namespace dfd::client {

std::vector<std::string> options_after_command(
    const std::vector<std::string>& args, const std::function<bool(std::string_view)>& is_command,
    const std::function<bool(std::string_view)>& takes_value) {
  std::vector<std::string> moved;
  std::size_t i = 0;
  while (i < args.size()) {
    const std::string& a = args[i];
    if (a == "--") return args;
    bool option = a.size() > 1 && a[0] == '-';
    if (!option) break;
    moved.push_back(a);
    bool long_option = a.rfind("--", 0) == 0;
    bool self_contained = long_option ? a.find('=') != std::string::npos : a.size() > 2;
    if (!self_contained && takes_value(a) && i + 1 < args.size()) moved.push_back(args[++i]);
    ++i;
  }
  if (moved.empty() || i == args.size() || !is_command(args[i])) return args;
  std::vector<std::string> out(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  auto end_of_options = out.begin();
  while (end_of_options != out.end() && *end_of_options != "--") ++end_of_options;
  out.insert(end_of_options, moved.begin(), moved.end());
  return out;
}

}  // namespace dfd::client
