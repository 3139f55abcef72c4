# Installs the embeddable core (domain + application + the memory adapter) as a CMake package:
#   find_package(Socle CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE Socle::core)
include(CMakePackageConfigHelpers)

add_library(socle_core INTERFACE)
add_library(Socle::core ALIAS socle_core)
target_link_libraries(socle_core INTERFACE socle_domain socle_application)
set_target_properties(socle_core PROPERTIES EXPORT_NAME core)

install(TARGETS socle_domain socle_application socle_adapter_memory socle_core
  EXPORT SocleTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY
  ${PROJECT_SOURCE_DIR}/domain/include/
  ${PROJECT_SOURCE_DIR}/application/include/
  ${PROJECT_SOURCE_DIR}/adapters/memory/include/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT SocleTargets
  NAMESPACE Socle::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Socle)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/SocleConfig.cmake.in
  ${PROJECT_BINARY_DIR}/SocleConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Socle)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/SocleConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/SocleConfig.cmake ${PROJECT_BINARY_DIR}/SocleConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Socle)
