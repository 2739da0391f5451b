#include "text_table.hpp"

#include <algorithm>

namespace dfd::client {

std::string format_table(const std::vector<std::vector<std::string>>& rows,
                         const std::vector<bool>& right, const std::string& indent,
                         std::size_t gap) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    out += indent;
    for (std::size_t i = 0; i < row.size(); ++i) {
      bool last = i + 1 == row.size();
      std::string fill(width[i] - row[i].size(), ' ');
      bool r = i < right.size() && right[i];
      if (r) out += fill;
      out += row[i];
      if (!last) out += (r ? "" : fill) + std::string(gap, ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace dfd::client
