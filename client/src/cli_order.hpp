// Options before or after the command name (issue 13): `dfd --zone a get X` means
// `dfd get X --zone a`. CLI11 lets a command's parent take the options that follow the command
// (fallthrough) but not a command's options before its name, so main moves them. Pure logic.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace dfd::client {

// `args` without the program name. When options (and their values) come before the first
// command name, returns the arguments with them moved after the command line's other words
// (before a "--", which ends the options); otherwise returns `args` unchanged. `is_command` says
// whether a word is a command name, `takes_value` whether an option ("--zone", "-o") reads the
// next word as its value. "--opt=value" and "-oVALUE" are one word.
std::vector<std::string> options_after_command(
    const std::vector<std::string>& args, const std::function<bool(std::string_view)>& is_command,
    const std::function<bool(std::string_view)>& takes_value);

}  // namespace dfd::client
