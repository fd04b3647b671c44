# Packet protection throughput per backend x cipher (results in docs/BENCHMARKS.md).
add_executable(aead_bench ${CMAKE_CURRENT_SOURCE_DIR}/aead_bench.cc)
target_link_libraries(aead_bench PRIVATE tquic_crypto benchmark::benchmark)
