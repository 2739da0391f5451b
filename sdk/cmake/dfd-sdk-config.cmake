# find_package(dfd-sdk) → the targets dfd::sdk (the SDK headers, P/include/dfd/, C++17, and what
# they need: Boost headers, since Boost.DLL exports the plugin entry) and dfd::wire (the wire
# library), and the function dfd_add_plugin (dfd-sdk-plugin.cmake):
#
#   cmake_minimum_required(VERSION 3.16)
#   project(my_plugin CXX)
#   find_package(dfd-sdk 0.1 REQUIRED)
#   dfd_add_plugin(my-storage SOURCES my_storage.cpp)     # → libdfd-my-storage.so
#
# dfd_add_plugin stops at configure time when this project's compiler is not the one the SDK (and
# dfd-host) was built with (DFD_SDK_CXX_COMPILER_ID/_VERSION below): the host would refuse the
# plugin's build signature. -DDFD_SDK_ALLOW_OTHER_COMPILER=ON overrides.
include(CMakeFindDependencyMacro)
find_dependency(Boost 1.74)
include(${CMAKE_CURRENT_LIST_DIR}/dfd-sdk-targets.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/dfd-sdk-compiler.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/dfd-sdk-plugin.cmake)
