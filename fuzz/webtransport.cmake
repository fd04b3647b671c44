# WebTransport capsule bodies and error-code mapping (src/webtransport/codec.h).
tquic_fuzz(wt_capsules SOURCES ${CMAKE_CURRENT_LIST_DIR}/wt_capsules.cc DEPS tquic_webtransport)
# The HTTP/3 server target with a webtransport::Host in place of its echoing handlers.
tquic_fuzz(wt_server SOURCES ${CMAKE_CURRENT_LIST_DIR}/h3_server.cc
  DEPS tquic_h3 tquic_core tquic_webtransport)
if(TARGET fuzz_wt_server)
  target_compile_definitions(fuzz_wt_server PRIVATE FUZZ_WEBTRANSPORT_HOST=1)
endif()
