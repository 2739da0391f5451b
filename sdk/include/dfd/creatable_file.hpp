// dfd SDK — "could this file be written?", answered without writing anything: what a plugin's
// create() uses to validate a database, key or log path (dfd-host --check runs create() and must
// leave no file behind; the file itself is made by start()).
//
// Thread-safety: a pure function of the file system; safe from any thread.
#pragma once

#include <string>

#include "dfd/status.hpp"

namespace dfd {

// Ok when this process could open `path` for writing, creating it and its missing parent
// directories if need be: `path` is an existing regular file (a symbolic link is followed) it may
// write, or `path` does not exist and its nearest existing ancestor is a directory it may write
// into. Nothing is created or opened. Otherwise (the caller adds file:line:key):
//   kInvalidArgument   "'PATH' is not a regular file", "'/a/b' is not a directory"
//   kPermissionDenied  "'PATH' is not writable by this user",
//                      "cannot create 'PATH': '/dir' is not writable by this user"
//   kIoError           another stat() failure ("'/a': Permission denied")
Status check_creatable_file(const std::string& path);

}  // namespace dfd
