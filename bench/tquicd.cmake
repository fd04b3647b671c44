# Per-packet cost of tquicd's data-path components (results in docs/tquicd-datapath.md).
add_executable(tquicd_bench ${CMAKE_CURRENT_SOURCE_DIR}/tquicd_bench.cc)
target_link_libraries(tquicd_bench PRIVATE tquic_tquicd_core benchmark::benchmark)
target_include_directories(tquicd_bench PRIVATE ${PROJECT_SOURCE_DIR}/tests)  # tquicd/ip_test_packets.h
