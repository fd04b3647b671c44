# CONNECT-IP (RFC 9484): the three address/route capsules, the IP packet parser and the TUN GRO.
tquic_fuzz(connect_ip_capsules SOURCES ${CMAKE_CURRENT_LIST_DIR}/connect_ip_capsules.cc DEPS tquic_connect_ip)
tquic_fuzz(ip_packet SOURCES ${CMAKE_CURRENT_LIST_DIR}/ip_packet.cc DEPS tquic_connect_ip)
tquic_fuzz(tcp_coalescer SOURCES ${CMAKE_CURRENT_LIST_DIR}/tcp_coalescer.cc DEPS tquic_connect_ip)
