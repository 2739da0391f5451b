// dfd-host: one generic server program; the plugin list in its config makes it an information
// server or a file server. Usage: dfd-host --config FILE [--check] [--log-level LEVEL]
//                                dfd-host keygen --out DIR --name NAME   (keys for signed events)
//                                dfd-host index --root DIR --output FILE (a storage-http origin)
#include <iostream>

#include <CLI/CLI.hpp>

#include "config.hpp"
#include "dfd/plugin.hpp"
#include "host.hpp"
#include "keygen.hpp"
#include "origin_index_tool.hpp"
#include "plugin_loader.hpp"

#ifndef DFD_VERSION
#define DFD_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the blocked mask and only the main
  // thread's sigwait() sees SIGINT/SIGTERM/SIGHUP.
  dfd::host::block_host_signals();

  CLI::App app{"dfd-host: loads the plugins listed in a TOML config and serves them", "dfd-host"};
  dfd::host::HostOptions options;
  std::string level;
  app.add_option("-c,--config", options.config_path, "TOML config file");
  std::string key_dir, key_name;
  CLI::App* keygen =
      app.add_subcommand("keygen",
                         "write a new Ed25519 key pair for signed events: DIR/NAME.key (0600) and "
                         "DIR/NAME.pub; prints the key id");
  keygen->add_option("--out", key_dir, "directory (created 0700 when missing)")->required();
  keygen->add_option("--name", key_name, "sender name: the server id, or the info server's name")
      ->required();
  // Issue 15 (storage-http): the index an origin publishes.
  dfd::host::OriginIndexOptions index_options;
  std::string index_chunk_size = "4MiB";
  CLI::App* index =
      app.add_subcommand("index",
                         "write the file index of a storage-http origin: every file under DIR with "
                         "its size, digest and chunk digests (docs/storage-http.md)");
  index->add_option("--root", index_options.root, "the origin's directory")->required();
  index->add_option("--output", index_options.output, "the index file (e.g. DIR/index.json)")
      ->required();
  index->add_option("--chunk-size", index_chunk_size,
                    "bytes per chunk: the file servers' [content] chunk_size (default 4MiB)");
  index->add_option("--alg", index_options.alg, "digest algorithm (default sha256)");
  app.add_flag("--check", options.check,
               "load and validate the config and every plugin, print them, and exit (creates "
               "nothing, opens no socket)");
  app.add_option("--log-level", level, "trace|debug|info|warn|error|off (overrides [server])")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.set_version_flag("--version", dfd::host::version_banner("dfd-host", DFD_VERSION));
  app.footer(
      "Examples:\n"
      "  dfd-host --config configs/all-in-one.toml --check   validate, print the plugins, exit\n"
      "  dfd-host --config configs/info.toml                 serve until SIGINT/SIGTERM\n"
      "  dfd-host keygen --out /etc/dfd/keys --name fs-a1    a key pair for signed events\n"
      "  dfd-host index --root /srv/origin --output /srv/origin/index.json\n"
      "                                                      a storage-http origin's index\n"
      "\n"
      "Environment: only what the config names with ${VAR} or ${VAR:-default}.\n"
      "\n"
      "Exit codes:\n"
      "  0  stopped cleanly; --check found no problem; keygen wrote the keys\n"
      "  1  a failure at start or while running (the message is on stderr)\n"
      "  2  a bad command line, no --config, or a config file that cannot be read or parsed\n"
      "  3  shutdown did not finish in time (the watchdog ended the process)\n"
      "\n"
      "More: man dfd-host, docs/host.md.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // a bad command line is a usage error, as for dfd
  }
  if (keygen->parsed()) {
    auto r = dfd::host::keygen(key_dir, key_name);
    if (!r.ok()) {
      std::cerr << "dfd-host keygen: " << r.status().message() << std::endl;
      return 1;
    }
    std::cout << r->key_id << std::endl;
    std::cerr << "wrote " << r->key_file << " (private, 0600) and " << r->pub_file
              << " (public: copy it into the trusted_keys folder of the hosts that accept "
              << key_name << "'s events)" << std::endl;
    return 0;
  }
  if (index->parsed()) {  // issue 15
    auto size = dfd::host::parse_byte_size(index_chunk_size);
    if (!size.ok()) {
      std::cerr << "dfd-host index: --chunk-size " << size.status().message() << std::endl;
      return 2;
    }
    index_options.chunk_size = *size;
    auto r = dfd::host::write_origin_index(index_options);
    if (!r.ok()) {
      std::cerr << "dfd-host index: " << r.status().message() << std::endl;
      return 1;
    }
    std::cerr << "wrote " << index_options.output << " (" << *r << " files)" << std::endl;
    return 0;
  }
  if (options.config_path.empty()) {
    std::cerr << "dfd-host: --config is required (or: dfd-host keygen --out DIR --name NAME)\n"
              << app.help();
    return 2;
  }
  if (!level.empty()) options.log_level = *dfd::host::parse_log_level(level);
  try {
    return dfd::host::run_host(options);
  } catch (const std::exception& e) {
    std::cerr << "dfd-host: fatal: " << e.what() << std::endl;
    return 1;
  }
}
