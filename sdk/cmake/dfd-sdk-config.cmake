# find_package(dfd-sdk) → the target dfd::sdk: the SDK headers (P/include/dfd/) and what they need
# (Boost headers: Boost.DLL exports the plugin entry). A plugin is a MODULE library linked to it:
#
#   find_package(dfd-sdk 0.1 REQUIRED)
#   add_library(dfd-myplugin MODULE my_plugin.cpp)
#   set_target_properties(dfd-myplugin PROPERTIES PREFIX lib CXX_VISIBILITY_PRESET hidden)
#   target_link_libraries(dfd-myplugin PRIVATE dfd::sdk)
include(CMakeFindDependencyMacro)
find_dependency(Boost 1.74)
include(${CMAKE_CURRENT_LIST_DIR}/dfd-sdk-targets.cmake)
