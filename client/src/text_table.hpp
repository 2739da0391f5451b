// Plain-text tables of the dfd commands (ls, ambiguous candidates, the summary of several files).
#pragma once

#include <string>
#include <vector>

namespace dfd::client {

// Rows of cells (the first row is the header; cells already escaped with printable()) as lines:
// columns `gap` spaces apart, each as wide as its widest cell (bytes), right-aligned where
// `right[i]` is true, the last column never padded. Every line starts with `indent` and ends
// with '\n'.
std::string format_table(const std::vector<std::vector<std::string>>& rows,
                         const std::vector<bool>& right, const std::string& indent = "",
                         std::size_t gap = 2);

}  // namespace dfd::client
