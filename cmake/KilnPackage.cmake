# Kiln as a CMake package, two ways:
#  - installed: `cmake --install build --prefix P` lays out bin/kiln,
#    bin/kiln-opt, lib/libkiln_runtime.a, include/kiln/runtime/,
#    lib/cmake/Kiln/ and lib/pkgconfig/kiln-runtime.pc, all relocatable
#    (paths relative to the config file); find_package(Kiln 0.1) with
#    CMAKE_PREFIX_PATH=P;
#  - from this build tree: find_package(Kiln) with -DKiln_DIR=<build dir>.
# Both give the kiln_add_model() function and the Kiln::runtime target.
include(CMakePackageConfigHelpers)

add_library(Kiln::runtime ALIAS kiln_runtime)
set(KILN_CMAKE_DIR lib/cmake/Kiln)

# 0.x: a minor version may break compatibility, so 0.1 accepts only 0.1.z.
foreach(dir "${PROJECT_BINARY_DIR}" "${PROJECT_BINARY_DIR}/package")
  write_basic_package_version_file("${dir}/KilnConfigVersion.cmake"
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
endforeach()

# --- Build tree -------------------------------------------------------------
export(TARGETS kiln_runtime NAMESPACE Kiln:: FILE "${PROJECT_BINARY_DIR}/KilnTargets.cmake")
set(KILN_CONFIG_EXECUTABLE "$<TARGET_FILE:kiln>")
set(KILN_CONFIG_MODEL_MODULE "${PROJECT_SOURCE_DIR}/cmake/KilnModel.cmake")
configure_file(cmake/KilnConfig.cmake.in "${PROJECT_BINARY_DIR}/KilnConfig.cmake.gen" @ONLY)
file(GENERATE OUTPUT "${PROJECT_BINARY_DIR}/KilnConfig.cmake"
  INPUT "${PROJECT_BINARY_DIR}/KilnConfig.cmake.gen")

# --- Install tree -----------------------------------------------------------
install(TARGETS kiln kiln-opt RUNTIME DESTINATION bin)
install(TARGETS kiln_runtime EXPORT KilnTargets ARCHIVE DESTINATION lib)
install(DIRECTORY runtime/include/ DESTINATION include)
install(EXPORT KilnTargets NAMESPACE Kiln:: DESTINATION ${KILN_CMAKE_DIR})
# The config finds everything relative to itself (lib/cmake/Kiln/../../..).
set(KILN_CONFIG_EXECUTABLE "\${_kiln_prefix}/bin/kiln")
set(KILN_CONFIG_MODEL_MODULE "\${CMAKE_CURRENT_LIST_DIR}/KilnModel.cmake")
configure_file(cmake/KilnConfig.cmake.in "${PROJECT_BINARY_DIR}/package/KilnConfig.cmake" @ONLY)
configure_file(cmake/kiln-runtime.pc.in "${PROJECT_BINARY_DIR}/package/kiln-runtime.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/package/KilnConfig.cmake"
              "${PROJECT_BINARY_DIR}/package/KilnConfigVersion.cmake"
              cmake/KilnModel.cmake
        DESTINATION ${KILN_CMAKE_DIR})
install(FILES "${PROJECT_BINARY_DIR}/package/kiln-runtime.pc" DESTINATION lib/pkgconfig)
install(FILES README.md DESTINATION share/doc/kiln)
install(DIRECTORY docs/ DESTINATION share/doc/kiln/docs)

# --- Debian package: `cpack -G DEB` in the build directory ------------------
# Installs under /usr; depends on the bookworm packages of the shared
# libraries kiln links and on a C++ compiler (`kiln run` builds the code it
# generates).
set(CPACK_PACKAGE_NAME kiln)
set(CPACK_PACKAGE_VENDOR "Kiln")
set(CPACK_PACKAGE_CONTACT "Kiln developers <kiln@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Ahead-of-time compiler from ONNX and JSON models to C++ and CUDA PTX")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libc6, libstdc++6, libonnx1, libprotobuf32, libllvm19, libmlir-19, g++")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "cmake, pkgconf")
set(CPACK_GENERATOR DEB)
include(CPack)
