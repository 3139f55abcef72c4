# socle_embed_migrations(<target> <namespace> <dialect-dir>)
# Compiles every migrations/<dialect>/NNNN_name.sql into the target as a sorted table of
# {version, name, sql}, so binaries never look for SQL files at run time.
function(socle_embed_migrations target dialect)
  set(dir "${PROJECT_SOURCE_DIR}/migrations/${dialect}")
  file(GLOB sql_files CONFIGURE_DEPENDS "${dir}/*.sql")
  list(SORT sql_files)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/embedded_migrations_${dialect}.cpp")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -DDIALECT=${dialect} -DOUT=${out} "-DFILES=${sql_files}"
            -P "${PROJECT_SOURCE_DIR}/cmake/embed_migrations.cmake"
    DEPENDS ${sql_files} "${PROJECT_SOURCE_DIR}/cmake/embed_migrations.cmake"
    COMMENT "Embedding ${dialect} migrations"
    VERBATIM)
  target_sources(${target} PRIVATE "${out}")
endfunction()
