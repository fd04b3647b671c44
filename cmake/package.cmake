# The installable library: one static libtquic.a holding the objects of every layer the public
# API (include/tquic) needs, the public headers (never src/), a CMake package
# (find_package(tquic) -> tquic::tquic) and a pkg-config file. Everything installs in the
# component "tquic": `cmake --install <build> --component tquic --prefix <dir>`.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_tquic_layers tquic_api tquic_webtransport tquic_h3 tquic_qpack tquic_io tquic_core
    tquic_streams tquic_tls tquic_crypto tquic_recovery tquic_cc tquic_mp tquic_wire tquic_common)
set(_tquic_objects)
foreach(_layer IN LISTS _tquic_layers)
  list(APPEND _tquic_objects $<TARGET_OBJECTS:${_layer}>)
endforeach()

# `tquic` is the command-line program's target name, hence tquic_lib (file libtquic.a,
# exported as tquic::tquic).
add_library(tquic_lib STATIC ${_tquic_objects})
add_library(tquic::tquic ALIAS tquic_lib)
set_target_properties(tquic_lib PROPERTIES OUTPUT_NAME tquic EXPORT_NAME tquic
  VERSION ${PROJECT_VERSION})
target_include_directories(tquic_lib INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(tquic_lib INTERFACE cxx_std_23)
target_link_libraries(tquic_lib INTERFACE PkgConfig::GNUTLS OpenSSL::Crypto Threads::Threads)
set(_tquic_pc_extra_libs "")
if(TQUIC_SANITIZE)
  # The objects carry ASan/UBSan instrumentation: whoever links them needs the runtimes.
  target_link_options(tquic_lib INTERFACE -fsanitize=address,undefined)
  set(_tquic_pc_extra_libs "-fsanitize=address,undefined")
endif()

install(TARGETS tquic_lib EXPORT tquicTargets COMPONENT tquic
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tquic COMPONENT tquic
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
set(_tquic_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/tquic)
install(EXPORT tquicTargets NAMESPACE tquic:: DESTINATION ${_tquic_cmake_dir} COMPONENT tquic)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tquicConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/tquicConfig.cmake INSTALL_DESTINATION ${_tquic_cmake_dir})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/tquicConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tquicConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/tquicConfigVersion.cmake
  DESTINATION ${_tquic_cmake_dir} COMPONENT tquic)

# pkg-config: relocatable (prefix found from the .pc file's own directory), so an install
# with `--prefix` elsewhere than the configured prefix still works.
file(RELATIVE_PATH _tquic_pc_up /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
configure_file(${PROJECT_SOURCE_DIR}/cmake/tquic.pc.in ${CMAKE_CURRENT_BINARY_DIR}/tquic.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tquic.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT tquic)
