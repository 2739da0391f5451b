# dfd_add_plugin(NAME SOURCES src... [LIBS lib...] [NO_INSTALL])
# The SDK's own function (sdk/cmake/dfd-sdk-plugin.cmake, installed with the dfd-sdk package: one
# home for the library name, visibility, link options and the build-signature guard), plus what
# only the source tree needs: the small static SDK helpers (dfd::sdk_support), the output folder
# build/plugins/ and the install rule to P/lib/dfd/plugins (package dfd-server) unless NO_INSTALL
# (examples and test plugins).
include(${CMAKE_CURRENT_LIST_DIR}/../sdk/cmake/dfd-sdk-plugin.cmake)

function(dfd_add_plugin name)
  cmake_parse_arguments(P "NO_INSTALL" "" "SOURCES;LIBS" ${ARGN})
  dfd_sdk_add_plugin(${name} SOURCES ${P_SOURCES} LIBS dfd::sdk_support ${P_LIBS})
  set(target dfd-plugin-${name})
  set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${DFD_PLUGIN_DIR})
  if(NOT P_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION lib/dfd/plugins COMPONENT dfd-server)
    set_property(GLOBAL APPEND PROPERTY DFD_INSTALLED_PLUGINS ${target})
  endif()
endfunction()
