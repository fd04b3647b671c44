# Packet header and transport parameter parsers (src/wire/packet.h, src/wire/transport_params.h).
tquic_fuzz(packet_header SOURCES ${CMAKE_CURRENT_LIST_DIR}/packet_header.cc DEPS tquic_wire)
tquic_fuzz(transport_params SOURCES ${CMAKE_CURRENT_LIST_DIR}/transport_params.cc DEPS tquic_wire)
