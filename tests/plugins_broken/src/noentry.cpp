// Rule broken: no `dfd_plugin_entry` symbol (a library that is not a dfd plugin).
#include <boost/config.hpp>

extern "C" BOOST_SYMBOL_EXPORT int not_a_dfd_plugin() {
  return 42;
}
