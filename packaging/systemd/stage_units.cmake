# Runs while installing (packaging/systemd/CMakeLists.txt), with the final CMAKE_INSTALL_PREFIX:
# writes DFD_UNITS to DFD_UNITS_STAGED_DIR for dfd_install_rooted() to install. The units name
# /usr/bin/dfd-host and /etc/dfd/..., right for the prefix /usr. For any other prefix P they
# become P/bin/dfd-host and P/etc/dfd/..., where that install put the binary and the configs
# (the layout of cmake/dfd_install.cmake), so an install to /usr/local or a temporary prefix has
# units that run what it installed. StateDirectory stays /var/lib/dfd/<name>: systemd puts it there.
foreach(unit IN LISTS DFD_UNITS)
  file(READ "${DFD_UNITS_SOURCE_DIR}/${unit}" text)
  if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    string(REPLACE "/usr/bin/dfd-host" "${CMAKE_INSTALL_PREFIX}/bin/dfd-host" text "${text}")
    string(REPLACE "/etc/dfd/" "${CMAKE_INSTALL_PREFIX}/etc/dfd/" text "${text}")
  endif()
  file(WRITE "${DFD_UNITS_STAGED_DIR}/${unit}" "${text}")
endforeach()
