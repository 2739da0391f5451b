# dfd_add_plugin(NAME SOURCES src... [LIBS lib...] [NO_INSTALL])
# Builds build/plugins/libdfd-NAME.so: hidden visibility, only the entry exported. Installed to
# P/lib/dfd/plugins (package dfd-server) unless NO_INSTALL (examples and test plugins).
function(dfd_add_plugin name)
  cmake_parse_arguments(P "NO_INSTALL" "" "SOURCES;LIBS" ${ARGN})
  set(target dfd-plugin-${name})
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME dfd-${name}
    PREFIX lib
    LIBRARY_OUTPUT_DIRECTORY ${DFD_PLUGIN_DIR}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${target} PRIVATE dfd::sdk dfd::sdk_support dfd::wire ${P_LIBS})
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
  if(NOT P_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION lib/dfd/plugins COMPONENT dfd-server)
    set_property(GLOBAL APPEND PROPERTY DFD_INSTALLED_PLUGINS ${target})
  endif()
endfunction()
