# Runs while installing, after the units were installed (packaging/systemd/CMakeLists.txt), with
# the final CMAKE_INSTALL_PREFIX and DFD_INSTALL_ROOT (cmake/dfd_install.cmake: "" for the prefix
# /usr, else the prefix). The units name /usr/bin/dfd-host and /etc/dfd/...: right for the root
# "", where nothing is changed. For any other prefix P the installed copies (in
# P/lib/systemd/system) are edited to name P/bin/dfd-host and P/etc/dfd/..., where that install
# put the binary and the configs, so an install to /usr/local or a temporary prefix has units that
# run what it installed. StateDirectory stays /var/lib/dfd/<name>: systemd always puts it there.
if(NOT DFD_INSTALL_ROOT STREQUAL "")
  foreach(unit IN LISTS DFD_UNITS)
    set(installed "$ENV{DESTDIR}${DFD_INSTALL_ROOT}/lib/systemd/system/${unit}")
    file(READ "${installed}" text)
    string(REPLACE "/usr/bin/dfd-host" "${CMAKE_INSTALL_PREFIX}/bin/dfd-host" text "${text}")
    string(REPLACE "/etc/dfd/" "${DFD_INSTALL_ROOT}/etc/dfd/" text "${text}")
    file(WRITE "${installed}" "${text}")
  endforeach()
endif()
