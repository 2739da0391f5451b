#include "password_input.hpp"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "util.hpp"

namespace dfd::client {

std::string read_secret(const char* prompt, bool from_stdin) {
  std::string line;
  if (!from_stdin && ::isatty(STDIN_FILENO)) {
    std::fprintf(stderr, "%s", prompt);
    std::fflush(stderr);
    termios old{};
    bool have = ::tcgetattr(STDIN_FILENO, &old) == 0;
    if (have) {
      termios quiet = old;
      quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
      quiet.c_lflag |= ECHONL;
      ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::getline(std::cin, line);
    if (have) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  } else {
    std::getline(std::cin, line);
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

std::string read_new_password(bool from_stdin) {
  const bool ask = !from_stdin && ::isatty(STDIN_FILENO);
  std::string pw = read_secret("New password: ", from_stdin);
  if (pw.empty()) throw CliError(exit_code::kUsage, "empty password");
  if (pw.size() < 8 || pw.size() > 1024)
    throw CliError(exit_code::kUsage, "a password must have 8 to 1024 characters");
  if (ask && read_secret("Repeat the new password: ", false) != pw)
    throw CliError(exit_code::kUsage, "the two passwords differ; nothing was changed");
  return pw;
}

}  // namespace dfd::client
