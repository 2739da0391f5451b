// Where `dfd get` writes a file (issue 13): the -o / -d options resolved into one path.
//
//   (nothing)            ./NAME
//   -o FILE              FILE
//   -o DIR/              DIR/NAME (DIR is created when missing)
//   -o DIR               DIR/NAME when DIR is an existing directory (else DIR is the file)
//   -d DIR               DIR/NAME
//   -d DIR -o REL        DIR/REL (REL as -o above, relative to DIR); -d with an absolute -o, or
//                        with -o -, is refused
//   -o -                 the bytes go to stdout (stdout_stream.hpp); no path
//
// NAME is safe_file_name() of the catalog name: a name from the manifest never leaves the chosen
// folder. Several files in one command (dfd get a b c) need a folder: -o FILE is refused for them.
//
// All functions are plain: no global state; errors are CliError with a message that names what
// the user gave (through printable()).
#pragma once

#include <optional>
#include <string>

#include "output_lock.hpp"

namespace dfd::client {

// True for `-o -` (stream to stdout).
bool is_stdout_output(const std::string& output);

// The local file name for a catalog name: its last component ("videos/movie.bin" gives
// "movie.bin"), with leading dots removed (".bashrc" gives "bashrc": no hidden file, no "..").
// Refused (CliError kUsage, "... give -o PATH"): an absolute name, an empty, "." or ".." component,
// a component over 255 bytes, control characters, a name of dots only.
std::string safe_file_name(const std::string& catalog_name);

// The output path of the file called `catalog_name` (the manifest's name) for the options
// `output` (-o, "" = none) and `output_dir` (-d, "" = none); `several` when the command downloads
// more than one file. Looks at the file system only to see whether `output` is an existing
// directory. Throws CliError(kUsage) for a combination that makes no sense (-o - here: the caller
// streams instead; -d with an absolute or "-" -o; -o FILE with several files) and for a name
// safe_file_name() refuses.
std::string resolve_output_path(const std::string& output, const std::string& output_dir,
                                const std::string& catalog_name, bool several = false);

// The output path when it does not depend on the file's name (-o FILE, possibly under -d), so it
// can be checked before a download token is asked for; nullopt when the name is needed (no -o,
// -o DIR, -d DIR alone) and for -o -. Throws like resolve_output_path.
std::optional<std::string> output_path_without_name(const std::string& output,
                                                    const std::string& output_dir);

// mkdir -p of the folder holding `path` (mode 0777 & ~umask). Returns the deepest folder it
// created ("" when they all existed). Throws CliError(kLocalIo) naming the folder it could not
// create and why (a file in the way, permission).
std::string create_parent_folders(const std::string& path);

// Makes `path` ready to be downloaded into, in this order: creates its missing folders (and says
// "dfd: created folder X" on stderr), takes the output lock (OutputLock: CliError kLocked when
// another dfd holds it), and refuses an existing file without `force` (CliError kExists) or an
// existing directory (CliError kExists). The returned lock is held until it is destroyed.
OutputLock claim_output(const std::string& path, bool force);

}  // namespace dfd::client
