# Whole datagrams into a client connection (null crypto) before, during and after a real
# handshake (fuzz/client_packets_driver.h).
tquic_fuzz(client_packets SOURCES ${CMAKE_CURRENT_LIST_DIR}/client_packets.cc DEPS tquic_core)
# Frames sealed with real packet protection (Initial and 1-RTT keys) into a server
# (fuzz/sealed_packets_driver.h).
tquic_fuzz(sealed_packets SOURCES ${CMAKE_CURRENT_LIST_DIR}/sealed_packets.cc DEPS tquic_core)
# Writes both seed corpora: fuzz_client_sealed_seedgen fuzz/corpus
add_executable(fuzz_client_sealed_seedgen ${CMAKE_CURRENT_LIST_DIR}/client_sealed_seedgen.cc)
target_link_libraries(fuzz_client_sealed_seedgen PRIVATE tquic_options tquic_core)
