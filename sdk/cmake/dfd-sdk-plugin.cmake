# dfd_add_plugin(NAME SOURCES src... [LIBS lib...])
#
# Builds the plugin NAME as the MODULE library libdfd-NAME.so (target dfd-plugin-NAME), the way
# dfd-host expects to load it: hidden visibility (inline functions too; only the entry made by
# DFD_PLUGIN is exported), every symbol resolved at link time (-Wl,--no-undefined), linked to
# dfd::sdk and dfd::wire (plus LIBS). The library lands in CMAKE_LIBRARY_OUTPUT_DIRECTORY (or the
# current build directory); point a host config's plugin_path at it.
#
# Build-signature guard: dfd-host refuses a plugin whose build signature (compiler and its
# major.minor version, C++ library ABI, Boost version; dfd/plugin.hpp) differs from its own. The
# SDK package records the compiler it was built with (DFD_SDK_CXX_COMPILER_ID/_VERSION, the same
# compiler as the host), and dfd_add_plugin stops at configure time when the plugin's compiler
# differs, rather than building a library the host would refuse at load. Set
# DFD_SDK_ALLOW_OTHER_COMPILER=ON to build anyway (a host built with that compiler, say).
#
# This file is the one home of the function: the installed package (dfd-sdk-config.cmake) includes
# it, and the dfd source tree's cmake/dfd_plugin.cmake wraps dfd_sdk_add_plugin below.
include_guard(GLOBAL)

# The compiler as the build signature names it: "<id> <major>.<minor>", e.g. "GNU 12.2".
function(_dfd_sdk_compiler_of id version out)
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" major_minor "${version}")
  set(${out} "${id} ${major_minor}" PARENT_SCOPE)
endfunction()

# Stops the configure step when this project's C++ compiler is not the SDK's (see above).
function(_dfd_sdk_check_compiler name)
  if(NOT DEFINED DFD_SDK_CXX_COMPILER_ID OR DFD_SDK_ALLOW_OTHER_COMPILER)
    return()
  endif()
  _dfd_sdk_compiler_of("${DFD_SDK_CXX_COMPILER_ID}" "${DFD_SDK_CXX_COMPILER_VERSION}" sdk)
  _dfd_sdk_compiler_of("${CMAKE_CXX_COMPILER_ID}" "${CMAKE_CXX_COMPILER_VERSION}" mine)
  if(NOT sdk STREQUAL mine)
    message(FATAL_ERROR
      "dfd_add_plugin(${name}): this project compiles C++ with ${mine} (${CMAKE_CXX_COMPILER}), "
      "but the dfd SDK and the dfd-host that loads plugins were built with ${sdk}. dfd-host "
      "would refuse the plugin at load (build signature: C++ types cross the plugin boundary, so "
      "both sides must use the same compiler). Configure with "
      "-DCMAKE_CXX_COMPILER=<a ${sdk} compiler>, or with -DDFD_SDK_ALLOW_OTHER_COMPILER=ON when "
      "the host that will load it was built with ${mine}.")
  endif()
endfunction()

# The one implementation. Makes target dfd-plugin-NAME; LIBS are linked privately.
function(dfd_sdk_add_plugin name)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  if(NOT P_SOURCES)
    message(FATAL_ERROR "dfd_add_plugin(${name}): SOURCES is required")
  endif()
  if(P_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "dfd_add_plugin(${name}): unknown arguments: ${P_UNPARSED_ARGUMENTS} "
                        "(usage: dfd_add_plugin(NAME SOURCES src... [LIBS lib...]))")
  endif()
  _dfd_sdk_check_compiler(${name})
  set(target dfd-plugin-${name})
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME dfd-${name}
    PREFIX lib
    SUFFIX .so
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${target} PRIVATE dfd::sdk dfd::wire ${P_LIBS})
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
endfunction()

function(dfd_add_plugin name)
  dfd_sdk_add_plugin(${name} ${ARGN})
endfunction()
