# Heap per idle server connection and GnuTLS's part of it (docs/performance.md "Many connections").
add_executable(conn_memory ${CMAKE_CURRENT_LIST_DIR}/conn_memory.cc)
target_link_libraries(conn_memory PRIVATE tquic_harness)
