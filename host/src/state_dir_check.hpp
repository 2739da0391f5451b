// Refuses state that another local user could tamper with, in the spirit of sshd's StrictModes.
//
// Checked, at start and by --check, before any plugin opens a file:
//   - [server] state_dir and every directory above it up to "/", both as written (made absolute)
//     and with symlinks resolved;
//   - the directory of every database path in the config: any string key named "db" or ending in
//     "_db" in a [[plugin]] table or in [content], and the same chain above it;
//   - every entry directly inside state_dir (the databases and their journals).
// A directory is refused when it is owned by a user other than root or this process's user, or
// when others may write to it: world-writable without the sticky bit anywhere in the chain (a
// root-owned sticky /tmp is fine), world-writable at all for state_dir itself or a database's own
// directory (a sticky bit does not stop others from planting files there). An entry inside
// state_dir is refused when another user owns it or others may write to it.
// Every message names the config file, the line, the key, the path and the problem.
//
// Thread-safety: plain function; reads the file system.
#pragma once

#include "config.hpp"

namespace dfd::host {

Status check_state_paths(const HostConfig& cfg);

}  // namespace dfd::host
