# dfd_add_plugin(NAME SOURCES src... [LIBS lib...])
# Builds build/plugins/libdfd-NAME.so: hidden visibility, only the entry exported.
function(dfd_add_plugin name)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  set(target dfd-plugin-${name})
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME dfd-${name}
    PREFIX lib
    LIBRARY_OUTPUT_DIRECTORY ${DFD_PLUGIN_DIR}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${target} PRIVATE dfd::sdk dfd::sdk_support ${P_LIBS})
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
  install(TARGETS ${target} LIBRARY DESTINATION lib/dfd/plugins)
endfunction()
