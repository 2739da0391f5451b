# The Debian packages (CPack DEB, one package per install component), built by scripts/package:
#   dfd          the client: /usr/bin/dfd, dfd.1, bash and zsh completion
#   dfd-server   /usr/bin/dfd-host, /usr/lib/dfd/plugins/, /etc/dfd/ (conffiles), dfd-host.1,
#                systemd units (whatever is installed with COMPONENT dfd-server), the `dfd` user
#   dfd-sdk-dev  /usr/include/dfd/, /usr/lib/cmake/dfd-sdk/ (find_package(dfd-sdk) → dfd::sdk),
#                /usr/bin/dfd-plugin-check and its man page
# Staged with DESTDIR and prefix /usr, so dfd_install_rooted() puts configs in /etc/dfd.
set(DFD_MAINTAINER "dfd maintainers <maintainers@users.noreply.b-seed-800172b5.example>")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dfd)
set(CPACK_PACKAGE_VENDOR "dfd maintainers")
set(CPACK_PACKAGE_CONTACT "${DFD_MAINTAINER}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# Components are named here, not collected: a component whose install() rule comes later in the
# project (packaging/systemd) still lands in its package.
set(CPACK_COMPONENTS_ALL dfd dfd-server dfd-sdk-dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${DFD_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# gzip: fast to build, and dpkg reads it everywhere.
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)

set(CPACK_DEBIAN_DFD_PACKAGE_NAME dfd)
set(CPACK_COMPONENT_DFD_DESCRIPTION
    "distributed file download system - client
dfd downloads one file from many file servers at once, in verified chunks:
every chunk is checked against its digest and the finished file against the
whole-file digest. This package holds the command-line client dfd, its manual
page and its bash and zsh completion.")

set(CPACK_DEBIAN_DFD-SERVER_PACKAGE_NAME dfd-server)
set(CPACK_DEBIAN_DFD-SERVER_PACKAGE_DEPENDS "adduser, passwd")
# The split deployment's broker; info-postgres/auth-postgres talk to a PostgreSQL server.
set(CPACK_DEBIAN_DFD-SERVER_PACKAGE_SUGGESTS "dfd, rabbitmq-server, postgresql")
set(CPACK_DEBIAN_DFD-SERVER_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_SOURCE_DIR}/debian/dfd-server/postinst
    ${CMAKE_CURRENT_SOURCE_DIR}/debian/dfd-server/postrm
    ${CMAKE_CURRENT_BINARY_DIR}/debian/dfd-server/conffiles)
set(CPACK_COMPONENT_DFD-SERVER_DESCRIPTION
    "distributed file download system - servers
dfd-host is the one server program of dfd: its config's plugin list makes it
an information server (login, users, catalog, manifests), a file server (byte
ranges of the files in its storage) or both. This package holds dfd-host, its
plugins, example configs in /etc/dfd and the system user dfd. It starts no
service by itself.")

set(CPACK_DEBIAN_DFD-SDK-DEV_PACKAGE_NAME dfd-sdk-dev)
# Issue 15: not "all" any more: it holds dfd-plugin-check (and the static dfd::wire library).
set(CPACK_DEBIAN_DFD-SDK-DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DFD-SDK-DEV_PACKAGE_DEPENDS "libboost-dev (>= 1.74)")
# dfd/testing/*_conformance.hpp (the conformance suites for a plugin's own tests) use GoogleTest.
set(CPACK_DEBIAN_DFD-SDK-DEV_PACKAGE_SUGGESTS "libgtest-dev, dfd-server")
set(CPACK_COMPONENT_DFD-SDK-DEV_DESCRIPTION
    "distributed file download system - plugin SDK
The headers of the dfd plugin SDK (storage, auth, broker, digest and info
plugins for dfd-host) and the CMake package dfd-sdk: find_package(dfd-sdk)
gives the target dfd::sdk. dfd-plugin-check runs a plugin through its kind's
conformance suite.")

# conffiles: every file installed in /etc/dfd.
set(_dfd_conffiles "")
foreach(f IN LISTS DFD_CONFIGS)
  get_filename_component(n "${f}" NAME)
  string(APPEND _dfd_conffiles "/etc/dfd/${n}\n")
endforeach()
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/debian/dfd-server/conffiles "${_dfd_conffiles}")

include(CPack)
