# dfd_install_rooted(DESTINATION dir COMPONENT comp FILES file...)
# Installs FILES (permissions 0644) to <root>/DIR, where <root> is decided at install time from the
# install prefix P: "" when P is /usr (so etc/dfd → /etc/dfd and lib/systemd/system →
# /lib/systemd/system, as Debian puts them), P otherwise (`cmake --install build --prefix P` →
# P/etc/dfd). DESTDIR is honoured (CPack stages the packages with DESTDIR and P = /usr).
# The installed layout is docs/host.md "Installed layout".

# The one home of that rule: install-time code setting DFD_INSTALL_ROOT ("" or P). Put it in front
# of any install(CODE) that needs the root (packaging/systemd/point_units_at_prefix.cmake).
set(DFD_INSTALL_ROOT_CODE "
    if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
      set(DFD_INSTALL_ROOT \"\")
    else()
      set(DFD_INSTALL_ROOT \"\${CMAKE_INSTALL_PREFIX}\")
    endif()")

function(dfd_install_rooted)
  cmake_parse_arguments(A "" "DESTINATION;COMPONENT" "FILES" ${ARGN})
  if(NOT A_DESTINATION OR NOT A_COMPONENT OR NOT A_FILES)
    message(FATAL_ERROR "dfd_install_rooted: DESTINATION, COMPONENT and FILES are required")
  endif()
  set(files "")
  foreach(f IN LISTS A_FILES)
    get_filename_component(f "${f}" ABSOLUTE)
    string(APPEND files " \"${f}\"")
  endforeach()
  install(CODE "${DFD_INSTALL_ROOT_CODE}
    file(INSTALL DESTINATION \"\${DFD_INSTALL_ROOT}/${A_DESTINATION}\" TYPE FILE
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ FILES${files})"
    COMPONENT ${A_COMPONENT})
endfunction()
