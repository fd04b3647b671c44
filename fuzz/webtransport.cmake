# WebTransport capsule bodies and error-code mapping (src/webtransport/codec.h).
tquic_fuzz(wt_capsules SOURCES ${CMAKE_CURRENT_LIST_DIR}/wt_capsules.cc DEPS tquic_webtransport)
