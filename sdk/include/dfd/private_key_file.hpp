// dfd SDK support — reading a private key file safely (TLS keys, event signing keys).
// Part of `dfd::sdk_support`.
//
// The file is opened once and checked through that descriptor (no check-then-open race; a
// symbolic link is followed and its target checked): it must be a regular file owned by the
// effective user, with no permission bits for group or others (chmod 600), and at most 1 MiB.
// Errors name the path and what is wrong, never the file's bytes:
//   "cannot open 'PATH': No such file or directory", "'PATH' is not a regular file",
//   "'PATH' is owned by uid N, not by the running user (uid M)",
//   "'PATH' has mode 0640: a private key must not be accessible by group or others (chmod 600)",
//   "'PATH' is larger than 1 MiB", "'PATH' is empty".
// The caller wipes the returned bytes (OPENSSL_cleanse) once it has parsed them.
// Thread-safe (no state).
#pragma once

#include <string>

#include "dfd/status.hpp"

namespace dfd {

Result<std::string> read_private_key_file(const std::string& path);

}  // namespace dfd
