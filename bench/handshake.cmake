# Server CPU per full handshake in memory, QUIC beside bare TLS (docs/performance.md "Handshake CPU").
add_executable(handshake_bench ${CMAKE_CURRENT_LIST_DIR}/handshake_bench.cc)
target_link_libraries(handshake_bench PRIVATE tquic_harness benchmark::benchmark)
