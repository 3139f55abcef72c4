# Generates a C++ file exposing socle::migrations::<DIALECT>() from a list of .sql files.
cmake_policy(VERSION 3.25)
# File names must be NNNN_snake_name.sql; the number is the schema version.
set(body "")
foreach(f IN LISTS FILES)
  get_filename_component(base "${f}" NAME_WE)
  if(NOT base MATCHES "^([0-9]+)_([a-z0-9_]+)$")
    message(FATAL_ERROR "migration file name must be NNNN_name.sql: ${f}")
  endif()
  set(version "${CMAKE_MATCH_1}")
  set(name "${CMAKE_MATCH_2}")
  string(REGEX REPLACE "^0+([0-9])" "\\1" version "${version}")
  file(READ "${f}" sql)
  string(FIND "${sql}" ")socle_sql\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "migration contains the raw-string delimiter: ${f}")
  endif()
  string(APPEND body "    {${version}, \"${name}\", R\"socle_sql(${sql})socle_sql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from migrations/${DIALECT}/*.sql by cmake/embed_migrations.cmake.
#include <span>
#include \"socle/adapters/migration.hpp\"

namespace socle::migrations {

std::span<const adapters::Migration> ${DIALECT}() {
  static const adapters::Migration kAll[] = {
${body}  };
  return kAll;
}

}  // namespace socle::migrations
")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")
