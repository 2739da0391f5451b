// "Did you mean ...?" for unknown names (plugin names, config keys).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dfd::host {

// Levenshtein distance (insert, delete, substitute; each costs 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `name` if it is close enough to be a plausible typo (distance at most
// max(2, name.size() / 3)); "" otherwise. Ties go to the first candidate.
std::string closest_name(std::string_view name, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "" when nothing is close.
std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace dfd::host
