// dfd SDK — info plugins: the information server's API (login, catalog, manifests).
//
// An info plugin registers its routes through HostServices::http() in start(), finds its auth
// and broker plugins there, and builds its catalog from broker events (file.available,
// file.removed, server.heartbeat). Its HTTP contract is in docs/api.md.
#pragma once

#include "dfd/plugin.hpp"

namespace dfd {

class Info : public Plugin {
 public:
  static constexpr PluginKind kKind = PluginKind::kInfo;
};

}  // namespace dfd
