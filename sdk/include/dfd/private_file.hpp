// dfd SDK — private files (private keys, passwords): the one check a host or plugin applies
// before it trusts a file to hold a secret.
//
// Thread-safety: a pure function of the file system; safe from any thread.
#pragma once

#include <string>

#include "dfd/status.hpp"

namespace dfd {

// Ok when `path` is a regular file (a symbolic link is followed) owned by this process's
// effective user and not readable, writable or executable by group or others (mode 0600 or
// stricter). Otherwise:
//   kNotFound / kIoError    cannot stat it ("cannot read 'PATH': No such file or directory")
//   kInvalidArgument        not a regular file
//   kPermissionDenied       owned by another user, or group/others have access
//                           ("'PATH' is accessible by group or others (mode 0644); run:
//                           chmod 600 'PATH'")
// Messages name the path and the mode, never the content. The caller adds file:line:key.
Status check_private_file(const std::string& path);

// The file's bytes, read through one descriptor that was checked with the same rule (no
// check-then-open race): for private keys (the TLS tls_key, the event signing key). Also refused:
// more than 1 MiB, or empty. The caller wipes the bytes (OPENSSL_cleanse) once it has parsed them.
Result<std::string> read_private_file(const std::string& path);

}  // namespace dfd
