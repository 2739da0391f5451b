// What a file server's answer to a chunk request means for the download (one home for the rule,
// used wherever a content request ends: the first body bytes and the end of a transfer).
//
//   206                      -> kNone (the only good answer; Content-Range is checked apart)
//   401, 403                 -> kAuth      (the download token was refused: renew it once)
//   5xx, 429, 0 (no status)  -> kTransport (the server is busy or broken: back off, retry
//                                           elsewhere; a drop after max_failures in a row)
//   anything else            -> kStrike    (the server misbehaves: 200 for a range, 404, 3xx...)
//
// The info API has its own mapping of statuses to exit codes (api_client.cpp): a 404 there is an
// answer, not a misbehaving server.
#pragma once

#include <string>

namespace dfd::client {

// Why a chunk request ended without a verified chunk.
enum class Fault {
  kNone,
  kTransport,  // connect error, reset, timeout, stall, 5xx, short body: back off, retry elsewhere
  kStrike,     // wrong status/Content-Range/length/digest: the server misbehaves
  kAuth,       // 401/403: renew the download token once
  kLocal,      // our own disk/file error: fatal
  kCanceled,   // we cancelled it (another copy won, or shutdown)
};

// The fault of an HTTP status answering a range request (kNone only for 206).
Fault fault_of_status(long status);

// "HTTP 404 instead of 206" (for the report; kNone statuses give "").
std::string status_fault_message(long status);

}  // namespace dfd::client
