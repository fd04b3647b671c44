# CONNECT-UDP requests (RFC 9298 §3), --allow rules and Proxy-Status (RFC 9209 §2).
tquic_fuzz(connect_udp_request SOURCES ${CMAKE_CURRENT_LIST_DIR}/connect_udp_request.cc
  DEPS tquic_masque_core)
