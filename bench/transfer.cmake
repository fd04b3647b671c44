# Bytes per CPU-second of the packet path in memory, both sides (harness/bulk_transfer.h).
add_executable(transfer_bench ${CMAKE_CURRENT_LIST_DIR}/transfer_bench.cc)
target_link_libraries(transfer_bench PRIVATE tquic_harness benchmark::benchmark)
