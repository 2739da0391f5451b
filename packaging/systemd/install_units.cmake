# Runs while installing (see CMakeLists.txt here), with the final CMAKE_INSTALL_PREFIX.
# The units name /usr/bin/dfd-host and /etc/dfd/...: right for the prefix /usr. For any other
# prefix P they are rewritten to P/bin/dfd-host and P/etc/dfd/... (where that install put the
# binary and the configs), so an install to /usr/local or a temporary prefix has units that run
# what it installed. StateDirectory stays /var/lib/dfd/<name>: systemd always places it there.
set(dfd_units dfd-host@.service dfd-info.service dfd-fileserver.service)
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(dfd_unit_dir "/lib/systemd/system")
else()
  set(dfd_unit_dir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
set(dfd_staged "")
foreach(unit IN LISTS dfd_units)
  file(READ "${DFD_UNITS_SOURCE_DIR}/${unit}" text)
  if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    string(REPLACE "/usr/bin/dfd-host" "${CMAKE_INSTALL_PREFIX}/bin/dfd-host" text "${text}")
    string(REPLACE "/etc/dfd/" "${CMAKE_INSTALL_PREFIX}/etc/dfd/" text "${text}")
  endif()
  file(WRITE "${DFD_UNITS_STAGING_DIR}/${unit}" "${text}")
  list(APPEND dfd_staged "${DFD_UNITS_STAGING_DIR}/${unit}")
endforeach()
# file(INSTALL) adds $DESTDIR (CPack stages the package that way) and records the files in the
# install manifest, like an install(FILES) rule.
file(INSTALL DESTINATION "${dfd_unit_dir}" TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES ${dfd_staged})
