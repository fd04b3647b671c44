// Whole datagrams into a client Endpoint with null packet protection, before, during and after
// a real handshake (fuzz/client_packets_driver.h): the client-side twin of server_packets.
#include <cstddef>
#include <cstdint>

#include "client_packets_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_client_packets::run_input(data, size);
  return 0;
}
