tquic_fuzz(h3_frames SOURCES ${CMAKE_CURRENT_LIST_DIR}/h3_frames.cc DEPS tquic_h3)
