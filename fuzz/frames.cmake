tquic_fuzz(frame_decoder SOURCES ${CMAKE_CURRENT_LIST_DIR}/frame_decoder.cc DEPS tquic_wire)
