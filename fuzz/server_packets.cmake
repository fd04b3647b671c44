# Whole packets into a server connection with null crypto (fuzz/server_packets_driver.h).
tquic_fuzz(server_packets SOURCES ${CMAKE_CURRENT_LIST_DIR}/server_packets.cc DEPS tquic_core)
# Writes the seed corpus: fuzz_server_packets_seedgen fuzz/corpus/server_packets
add_executable(fuzz_server_packets_seedgen ${CMAKE_CURRENT_LIST_DIR}/server_packets_seedgen.cc)
target_link_libraries(fuzz_server_packets_seedgen PRIVATE tquic_options tquic_core)
