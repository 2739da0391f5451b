// Helpers the `dfd` commands share (defined in commands.cpp): the logged-in InfoApi, JSON for
// stdout, the file table.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api_client.hpp"
#include "commands.hpp"
#include "manifest.hpp"

namespace dfd::client {

// An InfoApi with the stored user token for the resolved servers (--server, $DFD_SERVER, the
// login's list); CliError(kAuth) when not logged in to them.
InfoApi logged_in_api(const GlobalOptions& g);

// JSON for stdout: every non-ASCII character as \uXXXX (no control character reaches a terminal).
std::string json_text(const nlohmann::json& j);

// The file table of `dfd ls` on stdout (every name through printable()).
void print_table(const std::vector<FileEntry>& files);

// One catalog entry as `dfd ls --json` prints it.
nlohmann::json entry_json(const FileEntry& f);

}  // namespace dfd::client
