#include "dfd/wire/topic.hpp"

namespace dfd::wire {

namespace {
std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> words;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      words.push_back(s.substr(start));
      return words;
    }
    words.push_back(s.substr(start, dot - start));
    start = dot + 1;
  }
}

// Iterative matcher with backtracking to the last '#' (like glob matching on words).
bool match_words(const std::vector<std::string_view>& pat,
                 const std::vector<std::string_view>& key) {
  std::size_t p = 0, k = 0;
  std::size_t star_p = std::string_view::npos, star_k = 0;
  while (k < key.size()) {
    if (p < pat.size() && pat[p] == "#") {
      star_p = p++;
      star_k = k;
    } else if (p < pat.size() && (pat[p] == "*" || pat[p] == key[k])) {
      ++p;
      ++k;
    } else if (star_p != std::string_view::npos) {
      p = star_p + 1;
      k = ++star_k;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == "#") ++p;
  return p == pat.size();
}
}  // namespace

bool topic_matches(std::string_view binding_key, std::string_view routing_key) {
  if (binding_key == "#") return true;
  return match_words(split_words(binding_key), split_words(routing_key));
}

bool any_topic_matches(const std::vector<std::string>& binding_keys, std::string_view routing_key) {
  for (const auto& b : binding_keys) {
    if (topic_matches(b, routing_key)) return true;
  }
  return false;
}

std::string check_binding_key(std::string_view binding_key) {
  if (binding_key.empty()) return "empty binding key";
  if (binding_key.size() > 255) return "binding key longer than 255 bytes";
  for (auto w : split_words(binding_key)) {
    if (w.empty()) return "binding key '" + std::string(binding_key) + "' has an empty word";
  }
  return {};
}

}  // namespace dfd::wire
