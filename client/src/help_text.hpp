// The text around the options in `dfd --help` and `dfd COMMAND --help` (issue 13): examples,
// environment variables, files and the exit codes. main.cpp sets them as CLI11 footers; the man
// page (man/dfd.1) and docs/client.md say the same, and tests/client/cli_habits_test.sh checks
// that every exit code and variable printed here is in the man page.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace dfd::client {

// (code, meaning) for every exit code of util.hpp's exit_code, in order.
const std::vector<std::pair<int, std::string>>& exit_code_meanings();

// Footer of `dfd --help`: examples, environment, files, exit codes.
std::string main_help_footer();
// Footer of `dfd get --help`: examples of get.
std::string get_help_footer();

}  // namespace dfd::client
