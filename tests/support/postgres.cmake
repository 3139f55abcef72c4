# The private PostgreSQL test cluster and the glue for suites that need it.
#
# - CTest fixture tests postgres.cluster.start / postgres.cluster.stop (fixture "postgres"):
#   CTest starts the cluster once before the first test that requires it and stops it after
#   the last one, also when only a subset of the tests is selected (-L, -R).
# - socle_test_postgres: a static library with socle::testing::PostgresTestDatabase, a
#   throwaway database per test (tests/support/postgres_test_database.hpp).
# - socle_add_postgres_test(<name> SOURCES ... LIBS ... [LABELS ...]): socle_add_test for a
#   suite that talks to PostgreSQL.
# - socle_requires_postgres(<target> [LABELS ...]): the same properties for a target already
#   added with socle_add_test (or catch_discover_tests) in the current directory.
# - socle_set_discovered_test_labels(<target> <label>...): gives every test discovered in
#   <target> these labels (catch_discover_tests flattens a multi-value LABELS property).
#
# Included from several CMakeLists; the guard makes the targets and tests exist once.
include_guard(GLOBAL)

set(SOCLE_PG_STATE_DIR "${CMAKE_BINARY_DIR}/pgtest" CACHE INTERNAL
    "Where the test cluster keeps its URL and the path of its throwaway directory")
set(_socle_pg_script "${PROJECT_SOURCE_DIR}/tests/support/pg_cluster.sh")

find_program(SOCLE_BASH bash REQUIRED)
add_test(NAME postgres.cluster.start
  COMMAND ${SOCLE_BASH} ${_socle_pg_script} start ${SOCLE_PG_STATE_DIR})
add_test(NAME postgres.cluster.stop
  COMMAND ${SOCLE_BASH} ${_socle_pg_script} stop ${SOCLE_PG_STATE_DIR})
set_tests_properties(postgres.cluster.start PROPERTIES
  FIXTURES_SETUP postgres LABELS postgres TIMEOUT 120)
set_tests_properties(postgres.cluster.stop PROPERTIES
  FIXTURES_CLEANUP postgres LABELS postgres TIMEOUT 60)

add_library(socle_test_postgres STATIC
  ${PROJECT_SOURCE_DIR}/tests/support/postgres_test_database.cpp)
target_include_directories(socle_test_postgres PUBLIC ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(socle_test_postgres PRIVATE PostgreSQL::PostgreSQL)
# Lets a suite run straight from its executable (outside CTest) once the cluster is started.
target_compile_definitions(socle_test_postgres PRIVATE
  SOCLE_TEST_PG_DEFAULT_URL_FILE="${SOCLE_PG_STATE_DIR}/url")
socle_target_warnings(socle_test_postgres)

# Writes a CTest include file, run after catch_discover_tests' own, that applies properties
# to the test list Catch publishes as <target>_TESTS. Each value is bracket-quoted so that a
# list (LABELS a;b) reaches set_tests_properties as one value.
function(_socle_set_discovered_properties target suffix)
  set(keys LABELS FIXTURES_REQUIRED ENVIRONMENT)
  cmake_parse_arguments(P "" "" "${keys}" ${ARGN})
  set(body "")
  foreach(key IN LISTS keys)
    if(DEFINED P_${key})
      string(APPEND body " ${key} [==[${P_${key}}]==]")
    endif()
  endforeach()
  set(file "${CMAKE_CURRENT_BINARY_DIR}/${target}_${suffix}.cmake")
  file(WRITE "${file}"
    "if(DEFINED ${target}_TESTS)\n"
    "  set_tests_properties(\${${target}_TESTS} PROPERTIES${body})\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${file}")
endfunction()

function(socle_set_discovered_test_labels target)
  _socle_set_discovered_properties(${target} labels LABELS ${ARGN})
endfunction()

function(socle_requires_postgres target)
  cmake_parse_arguments(P "" "" "LABELS" ${ARGN})
  set(labels postgres ${P_LABELS})
  list(REMOVE_DUPLICATES labels)
  _socle_set_discovered_properties(${target} postgres
    FIXTURES_REQUIRED postgres
    LABELS ${labels}
    ENVIRONMENT "SOCLE_TEST_PG_URL_FILE=${SOCLE_PG_STATE_DIR}/url")
endfunction()

function(socle_add_postgres_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE socle_test_support socle_test_postgres ${T_LIBS})
  socle_target_warnings(${name})
  catch_discover_tests(${name})
  socle_requires_postgres(${name} LABELS ${T_LABELS})
endfunction()
