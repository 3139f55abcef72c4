# Enforces the hexagonal dependency rule on #include lines, since system headers
# (Boost, libpq, sqlite3 ...) sit on the default include path and cannot be hidden
# by target include directories alone.
#
#   domain/       may include: the C++ standard library, socle/domain/
#   application/  may include: the above, socle/application/
#
# The same script runs at configure time (a violation stops the build) and as a test
# (tests/layering), including a negative test on a fixture tree that must be rejected.

set(SOCLE_LAYERING_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/check_layering.cmake" CACHE INTERNAL "")

function(socle_check_layering)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -DROOT=${CMAKE_SOURCE_DIR} -P ${SOCLE_LAYERING_SCRIPT}
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "Layering violation:\n${out}${err}")
  endif()
endfunction()
