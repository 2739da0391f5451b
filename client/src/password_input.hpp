// Reading passwords for `dfd login`, `dfd user add` and `dfd user passwd`: from the terminal
// without echo (asked on stderr), or one line per password from stdin (--password-stdin, or
// whenever stdin is not a terminal). Nothing here prints or keeps a password.
#pragma once

#include <string>

namespace dfd::client {

// One line: on a terminal (and not `from_stdin`) `prompt` is written to stderr and echo is off.
// Trailing \r and \n are removed; the result may be empty (the caller decides). At end of input:
// "".
std::string read_secret(const char* prompt, bool from_stdin);

// A new password: on a terminal asked twice ("New password:", "Repeat the new password:"),
// otherwise one line. CliError(kUsage) when the two differ or it is not 8 to 1024 bytes (the
// info server's rule, docs/api.md).
std::string read_new_password(bool from_stdin);

}  // namespace dfd::client
