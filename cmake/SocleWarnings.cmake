# Warning flags applied to every Socle target through socle_target_warnings().
# -Wconversion is kept: integer narrowing is where money and size bugs hide.
# -Wsign-conversion is not: it fires on every byte loop over char data and hides real findings.
function(socle_target_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wconversion -Wshadow
    -Wnon-virtual-dtor -Woverloaded-virtual -Wimplicit-fallthrough)
  if(SOCLE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
