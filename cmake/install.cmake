# Installation and packaging: `cmake --install build --prefix P` and `cpack -G DEB`.
#
#   P/bin/islet                          the command line tool (links the library statically)
#   P/lib*/libisletsim.so.0              the library, shared (SONAME libisletsim.so.0)
#   P/include/isletsim/*.hpp             its public headers (they include only each other and the standard library)
#   P/lib*/cmake/isletsim/               find_package(isletsim) -> isletsim::isletsim
#   P/<ISLET_PYTHON_INSTALL_DIR>/isletsim the Python package (python/CMakeLists.txt)
#
# The shared library is linked from the objects of the static `isletsim` target (already
# position-independent): nothing is compiled twice, and `islet`, the Python module and the tests keep
# the static library they always used (same code, no run-time path to set). Its other libraries
# (HDF5, toml++, OpenBLAS, FFTW3, igraph, libdeflate, OpenMP, fmt, libpng, MPI) are private: a program that links
# isletsim::isletsim needs none of their development files.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_islet_objects $<TARGET_OBJECTS:isletsim>)
if(ISLET_GAUSS)
  list(APPEND _islet_objects $<TARGET_OBJECTS:isletsim_gauss>)
endif()
add_library(isletsim_shared SHARED ${_islet_objects})
set_target_properties(isletsim_shared PROPERTIES OUTPUT_NAME isletsim EXPORT_NAME isletsim
                      VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
target_include_directories(isletsim_shared INTERFACE $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(isletsim_shared INTERFACE cxx_std_20)
target_link_libraries(isletsim_shared PRIVATE OpenMP::OpenMP_CXX Threads::Threads fmt::fmt ${HDF5_C_HL_LIBRARIES} ${HDF5_C_LIBRARIES}
  tomlplusplus::tomlplusplus PkgConfig::OPENBLAS PkgConfig::FFTW3 PkgConfig::IGRAPH PkgConfig::LIBDEFLATE)
if(ISLET_GAUSS)
  target_link_libraries(isletsim_shared PRIVATE PNG::PNG)
endif()
if(ISLET_MPI)
  target_link_libraries(isletsim_shared PRIVATE MPI::MPI_C)
endif()
# Every symbol must resolve inside the library and its own dependencies.
target_link_options(isletsim_shared PRIVATE LINKER:--no-undefined)
add_library(isletsim::isletsim ALIAS isletsim_shared)

install(TARGETS islet RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(TARGETS isletsim_shared EXPORT isletsimTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/isletsim DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
        FILES_MATCHING PATTERN "*.hpp")

set(ISLET_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/isletsim)
install(EXPORT isletsimTargets NAMESPACE isletsim:: DESTINATION ${ISLET_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/isletsimConfig.cmake.in
  ${PROJECT_BINARY_DIR}/isletsimConfig.cmake INSTALL_DESTINATION ${ISLET_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/isletsimConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/isletsimConfig.cmake ${PROJECT_BINARY_DIR}/isletsimConfigVersion.cmake
        DESTINATION ${ISLET_CMAKE_DIR} COMPONENT dev)

# ---------------------------------------------------------------- Debian package (cpack -G DEB)
# One package, isletsim: the tool, the library, the headers and CMake files, and the Python package
# (in /usr/lib/python3/dist-packages, where Debian's python3 looks). `cpack -G DEB` in any build
# directory makes it; for a package meant for other machines, build for a portable instruction set
# (the cell kernel still picks AVX-512/AVX2 at run time; results are the same bits):
#   cmake -S . -B build-deb -G Ninja -DISLET_ARCH=x86-64-v2 -DISLET_BUILD_TESTS=OFF \
#         -DPython_EXECUTABLE=/usr/bin/python3
#   ninja -C build-deb && (cd build-deb && cpack -G DEB)
set(CPACK_PACKAGE_NAME isletsim)
set(CPACK_PACKAGE_VENDOR "isletsim")
set(CPACK_PACKAGE_CONTACT "isletsim maintainers <isletsim@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "simulate and analyse networks of coupled pancreatic beta cells")
set(CPACK_PACKAGE_DESCRIPTION
    "The islet command line tool, the isletsim C++ library (with headers and a CMake package) and the isletsim Python module: simulations of islets of Langerhans (gap-junction coupled beta-cell models, HDF5 output), parameter sweeps and calcium analysis.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# The shared libraries' packages (libhdf5-103-1, libgomp1, libfmt9, libopenblas0, libfftw3-double3,
# libigraph3, libtomlplusplus3, libpng16-16, libopenmpi3, libc6, libstdc++6, ...) come from
# dpkg-shlibdeps; the Python package's needs are added by hand.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "python3 (>= 3.11), python3 (<< 3.12), python3-numpy, python3-h5py")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3-matplotlib")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3-pandas, python3-networkx, openmpi-bin")
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_BINARY_DIR}/CPackProjectConfig.cmake)
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/CPackProjectConfig.cmake CONTENT [[
# Written by cmake/install.cmake: checks made when cpack runs.
if(CPACK_GENERATOR STREQUAL "DEB" AND NOT "@ISLET_PYTHON_INSTALL_DIR@" STREQUAL "" AND
   NOT "@ISLET_PYTHON_INSTALL_DIR@" MATCHES "dist-packages")
  message(FATAL_ERROR "isletsim: this build puts the Python package in '@ISLET_PYTHON_INSTALL_DIR@', where Debian's "
                      "python3 does not look; configure the packaging build with -DCMAKE_INSTALL_PREFIX=/usr "
                      "(or -DISLET_PYTHON_INSTALL_DIR=lib/python3/dist-packages)")
endif()
]] @ONLY)
include(CPack)

if(ISLET_BUILD_TESTS)
  # Install into a temporary prefix and use it: headers, tool, a find_package consumer, the Python package.
  # (the Python package's folder under a prefix other than /usr: python/CMakeLists.txt)
  set(_islet_py_dir "${ISLET_PYTHON_INSTALL_DIR}")
  if(NOT _islet_py_dir AND TARGET _isletsim)
    set(_islet_py_dir "${ISLET_PYTHON_SITE_DIR}")
  endif()
  add_test(NAME install_test COMMAND bash ${PROJECT_SOURCE_DIR}/tests/install_test.sh ${PROJECT_BINARY_DIR}
           ${PROJECT_SOURCE_DIR} ${PROJECT_VERSION} "${_islet_py_dir}" "${Python_EXECUTABLE}")
  set_tests_properties(install_test PROPERTIES TIMEOUT 300)
endif()

# The Debian package, built and checked without installing it (scripts/test-deb.sh; 20-70 s here).
find_program(ISLET_DPKG_DEB dpkg-deb)
find_program(ISLET_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(ISLET_BUILD_TESTS AND ISLET_DPKG_DEB AND ISLET_DPKG_SHLIBDEPS AND TARGET _isletsim)
  add_test(NAME deb_package_test COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/test-deb.sh ${PROJECT_BINARY_DIR} --no-build)
  set_tests_properties(deb_package_test PROPERTIES TIMEOUT 300)
endif()
