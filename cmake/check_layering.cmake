# cmake -DROOT=<tree> -P check_layering.cmake
cmake_policy(VERSION 3.25)
# Fails (non-zero exit) when a file under ROOT/domain or ROOT/application includes a
# header outside its layer's allow-list. See SocleLayering.cmake.
if(NOT DEFINED ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source tree> -P check_layering.cmake")
endif()

# Standard library headers (C++ and the C compatibility headers); nothing else is allowed
# between angle brackets in the inner layers.
set(std_headers
  algorithm any array atomic barrier bit bitset cassert cctype cerrno cfloat charconv chrono
  cinttypes climits clocale cmath codecvt compare complex concepts condition_variable coroutine
  csetjmp csignal cstdarg cstddef cstdint cstdio cstdlib cstring ctime cuchar cwchar cwctype deque
  exception execution expected filesystem format forward_list fstream functional future
  initializer_list iomanip ios iosfwd iostream istream iterator latch limits list locale map
  memory memory_resource mutex new numbers numeric optional ostream queue random ranges ratio
  regex scoped_allocator semaphore set shared_mutex source_location span spanstream sstream stack
  stdexcept stop_token streambuf string string_view syncstream system_error thread tuple
  type_traits typeindex typeinfo unordered_map unordered_set utility valarray variant vector
  version)

set(violations "")
foreach(layer domain application)
  if(layer STREQUAL "domain")
    set(allowed_prefixes "socle/domain/")
  else()
    set(allowed_prefixes "socle/domain/;socle/application/")
  endif()
  file(GLOB_RECURSE files "${ROOT}/${layer}/*.hpp" "${ROOT}/${layer}/*.cpp" "${ROOT}/${layer}/*.h")
  foreach(f IN LISTS files)
    file(STRINGS "${f}" lines REGEX "^[ \t]*#[ \t]*include")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"].*$" "\\1" header "${line}")
      set(ok FALSE)
      if(header IN_LIST std_headers)
        set(ok TRUE)
      endif()
      foreach(prefix IN LISTS allowed_prefixes)
        string(FIND "${header}" "${prefix}" pos)
        if(pos EQUAL 0)
          set(ok TRUE)
        endif()
      endforeach()
      if(NOT ok)
        file(RELATIVE_PATH rel "${ROOT}" "${f}")
        string(APPEND violations "  ${rel}: #include <${header}> is not allowed in ${layer}/\n")
      endif()
    endforeach()
  endforeach()
endforeach()

if(violations)
  message(FATAL_ERROR "The dependency rule is broken:\n${violations}")
endif()
message(STATUS "layering: ok")
