# CVDB: the loader's pieces compiled into the test (CSV reader, filters, conversions), the
# plugin itself loaded as imlhost loads it, and a child executable that hashes the generated
# data in a separate process (cross-process determinism).
set(_cvdb_dir ${CMAKE_SOURCE_DIR}/plugins/datasets/cvdb)

add_executable(cvdb_digest cvdb_digest.cpp)
target_link_libraries(cvdb_digest PRIVATE imlsdk::qa Boost::headers ${CMAKE_DL_LIBS})
target_include_directories(cvdb_digest PRIVATE ${CMAKE_SOURCE_DIR}/tests/support
  ${CMAKE_SOURCE_DIR}/tests/qa_protocol)
target_compile_definitions(cvdb_digest PRIVATE BOOST_DLL_USE_STD_FS
  IMLTEST_PLUGIN_DIR="${IMLHOST_PLUGIN_BUILD_DIR}" IMLTEST_SOURCE_DIR="${CMAKE_SOURCE_DIR}")

iml_add_test(test_cvdb SOURCES test_cvdb.cpp ${_cvdb_dir}/csv_reader.cpp ${_cvdb_dir}/cvdb_table.cpp
  LIBRARIES imlsdk::qa)
target_include_directories(test_cvdb PRIVATE ${_cvdb_dir} ${CMAKE_SOURCE_DIR}/tests/qa_protocol)
target_compile_definitions(test_cvdb PRIVATE IMLTEST_CVDB_DIGEST_EXE="$<TARGET_FILE:cvdb_digest>")
add_dependencies(test_cvdb cvdb_digest imlplugin_cvdb imlplugin_random_string)
