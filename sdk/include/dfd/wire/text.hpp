// dfd wire library: what counts as printable text in a field read from the network (a file name,
// a server id, a token), and THE escaping function for such text before it is printed on a
// terminal or put into a message. The manifest decoders refuse what is_printable_text refuses;
// the client prints everything from the network through printable(). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace dfd::wire {

// Control characters cannot reach the terminal: printable ASCII and valid UTF-8 pass unchanged;
// \t \n \r become those two-character escapes (a '\n' is kept when `keep_newlines`, for our own
// multi-line messages), other C0 bytes and DEL become \xNN, C1 controls (U+0080..U+009F),
// bidirectional overrides (U+200E/F, U+202A..E, U+2066..9) and line/paragraph separators
// (U+2028/9) become \uNNNN, invalid UTF-8 bytes \xNN. Backslashes are not escaped, so
// printable(printable(s)) == printable(s): applying it twice (once where a message is built,
// once where it is printed) is harmless.
std::string printable(std::string_view s, bool keep_newlines = false);

// True when printable(s) == s: valid UTF-8 without any character printable() would escape.
bool is_printable_text(std::string_view s);

}  // namespace dfd::wire
