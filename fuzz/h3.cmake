tquic_fuzz(h3_frames SOURCES ${CMAKE_CURRENT_LIST_DIR}/h3_frames.cc DEPS tquic_h3)
# A whole HTTP/3 server (h3::Session over a real Connection, null crypto) fed client stream data.
tquic_fuzz(h3_server SOURCES ${CMAKE_CURRENT_LIST_DIR}/h3_server.cc DEPS tquic_h3 tquic_core)
